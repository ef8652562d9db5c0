// Coupons: apps/coupon (coupons on offer, claiming, codes, my coupons, the checkout preview).
import { http } from './http'

// DRF pages ({count, results}); `course`: only the coupons that apply to that course.
export const coupons = (params = {}) => http.get('coupon/', { params })
export const claim = (id) => http.post(`coupon/${id}/claim/`).then((body) => body.coupon)
export const redeem = (code) => http.post('coupon/redeem/', { code }).then((body) => body.coupon)
// status: usable | used | expired.
export const myCoupons = (params = {}, { loginPrompt = true } = {}) =>
  http.get('user/coupons/', { params, loginPrompt })
// The checkout step: lines at server prices, the coupons that apply, the amount to pay.
export const preview = ({ courses, coupon = null }) =>
  http.post('order/preview/', coupon ? { courses, coupon } : { courses })
