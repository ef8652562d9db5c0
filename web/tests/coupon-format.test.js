// How money and coupons read: ¥199.00 everywhere, a discount never 免费, coupon rules in Chinese.
import { describe, expect, it } from 'vitest'
import { couponCondition, couponScope, couponValue, offerValidity } from '../src/utils/coupon'
import { money, yuan } from '../src/utils/format'

describe('money', () => {
  it.each([
    ['199.00', '¥199.00', '¥199.00'],
    ['0.00', '免费', '¥0.00'],
    ['0.01', '¥0.01', '¥0.01'],
    ['30', '¥30.00', '¥30.00'],
    [12.5, '¥12.50', '¥12.50'],
  ])('%j is %s as a price and %s as an amount', (value, price, amount) => {
    expect(yuan(value)).toBe(price)
    expect(money(value)).toBe(amount)
  })
})

describe('coupon text', () => {
  const base = { min_spend: '0.00', max_discount: null, percent_off: null, scope: 'all' }

  it('reads a 满减 coupon', () => {
    const coupon = { ...base, kind: 'threshold', amount: '30.00', min_spend: '199.00', scope: 'courses' }
    expect(couponValue(coupon)).toBe('¥30.00')
    expect(couponCondition(coupon)).toBe('满¥199.00可用')
    expect(couponScope(coupon)).toBe('指定课程可用')
  })

  it('reads a 折扣 coupon with its cap', () => {
    const coupon = { ...base, kind: 'percent', percent_off: 15, max_discount: '50.00' }
    expect(couponValue(coupon)).toBe('8.5折')
    expect(couponCondition(coupon)).toBe('最高减¥50.00')
    expect(couponValue({ ...coupon, percent_off: 20 })).toBe('8折')
  })

  it('reads a 立减 coupon with no minimum', () => {
    const coupon = { ...base, kind: 'amount', amount: '10.00' }
    expect(couponValue(coupon)).toBe('¥10.00')
    expect(couponCondition(coupon)).toBe('无门槛')
    expect(couponScope(coupon)).toBe('全部课程可用')
  })

  it('says how long an offered coupon lasts', () => {
    expect(offerValidity({ validity: 'after_claim', valid_days: 7 })).toBe('领取后 7 天内有效')
    expect(offerValidity({ validity: 'fixed', valid_until: '2026-12-31T15:59:00Z' })).toMatch(/^有效期至 2026-12-3\d \d\d:59$/)
  })
})
