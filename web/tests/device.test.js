// Which Alipay cashier the storefront asks for: the phone one on phones, the desktop page else.
import { describe, expect, it } from 'vitest'
import { isPhone, payChannel } from '../src/utils/device'

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const ANDROID_PHONE =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36'
const DESKTOP =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'

describe('payChannel', () => {
  it('asks for the phone cashier on phones', () => {
    expect(payChannel({ userAgent: IPHONE })).toBe('wap')
    expect(payChannel({ userAgent: ANDROID_PHONE })).toBe('wap')
  })

  it('keeps the desktop page elsewhere', () => {
    expect(payChannel({ userAgent: DESKTOP })).toBe('page')
    expect(payChannel(undefined)).toBe('page')
  })

  it('believes the browser when it says whether it is mobile', () => {
    expect(isPhone({ userAgent: DESKTOP, userAgentData: { mobile: true } })).toBe(true)
    expect(isPhone({ userAgent: IPHONE, userAgentData: { mobile: false } })).toBe(false)
  })
})
