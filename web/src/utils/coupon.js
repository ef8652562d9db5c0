// How a coupon reads on a card: its value, its condition, where it applies, until when.
import { dateTime, money } from './format'

const SCOPES = { all: '全部课程可用', categories: '指定分类课程可用', courses: '指定课程可用' }

/** The big figure: ¥30.00, or 8折 / 8.5折 for a percentage. */
export function couponValue(coupon) {
  if (coupon.kind === 'percent') return `${(100 - coupon.percent_off) / 10}折`
  return money(coupon.amount)
}

/** The condition under the figure: 满¥199.00可用, 最高减¥50.00, 无门槛. */
export function couponCondition(coupon) {
  const parts = []
  if (Number(coupon.min_spend) > 0) parts.push(`满${money(coupon.min_spend)}可用`)
  if (coupon.kind === 'percent' && coupon.max_discount != null) {
    parts.push(`最高减${money(coupon.max_discount)}`)
  }
  return parts.length ? parts.join('，') : '无门槛'
}

export function couponScope(coupon) {
  return SCOPES[coupon.scope] || ''
}

/** Validity of a coupon on offer (not yet the shopper's). */
export function offerValidity(coupon) {
  if (coupon.validity === 'after_claim') return `领取后 ${coupon.valid_days} 天内有效`
  return `有效期至 ${dateTime(coupon.valid_until)}`
}

/** Validity of one of the shopper's coupons. */
export function heldValidity(held) {
  return `${dateTime(held.valid_from)} 至 ${dateTime(held.valid_until)}`
}
