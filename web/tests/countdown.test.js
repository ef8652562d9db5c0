// The flash-sale countdown runs on the server's clock, whatever the device's says.
import { describe, expect, it } from 'vitest'
import { clockOffset, countdownTarget, formatCountdown, saleState, serverNow } from '../src/utils/countdown'

const SERVER = '2026-12-07T10:00:00+08:00'
const SERVER_MS = Date.parse(SERVER)
const sale = (fields = {}) => ({
  starts_at: '2026-12-07T10:00:10+08:00',
  ends_at: '2026-12-07T11:00:00+08:00',
  seats_left: 5,
  ...fields,
})

describe('clock offset', () => {
  it('is the server time minus the middle of the request on the device clock', () => {
    // A device 3 minutes slow: it sent at server-3min-100ms and heard back 200 ms later.
    const sentAt = SERVER_MS - 180_000 - 100
    expect(clockOffset(SERVER, sentAt, sentAt + 200)).toBe(180_000)
    expect(serverNow(180_000, sentAt + 200)).toBe(SERVER_MS + 100)
  })

  it('is 0 when the server time cannot be read', () => {
    expect(clockOffset('not a time', 1000, 2000)).toBe(0)
  })

  it('opens a sale at the server start even on a device clock an hour fast', () => {
    const deviceNow = SERVER_MS + 3_600_000
    const offset = clockOffset(SERVER, deviceNow, deviceNow)
    expect(saleState(sale(), serverNow(offset, deviceNow))).toBe('coming')
    expect(saleState(sale(), serverNow(offset, deviceNow + 10_000))).toBe('on')
  })
})

describe('sale state', () => {
  it.each([
    [SERVER_MS, {}, 'coming'],
    [SERVER_MS + 10_000, {}, 'on'],
    [SERVER_MS + 10_000, { seats_left: 0 }, 'soldout'],
    [Date.parse('2026-12-07T11:00:00+08:00'), {}, 'over'],
    [Date.parse('2026-12-07T11:00:00+08:00'), { seats_left: 0 }, 'over'],
  ])('at %i with %j is %s', (now, fields, expected) => {
    expect(saleState(sale(fields), now)).toBe(expected)
  })

  it('counts down to the start, then to the end, then to nothing', () => {
    expect(countdownTarget(sale(), SERVER_MS)).toBe(SERVER_MS + 10_000)
    expect(countdownTarget(sale(), SERVER_MS + 10_000)).toBe(Date.parse('2026-12-07T11:00:00+08:00'))
    expect(countdownTarget(sale({ seats_left: 0 }), SERVER_MS + 10_000)).toBeNull()
  })
})

describe('countdown text', () => {
  it.each([
    [0, '00:00:00'],
    [-5000, '00:00:00'],
    [61_999, '00:01:01'],
    [3_600_000 * 5 + 4_000, '05:00:04'],
    [86_400_000 * 2 + 3_661_000, '2天 01:01:01'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text)
  })
})
