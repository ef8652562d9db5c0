// Orders: apps/order (place and pay, payment status, the buyer's orders, cancel).
import { http } from './http'

// payChannel: 'page' (Alipay's desktop cashier, the server's default) or 'wap' (its phone one).
// coupon: one of the buyer's coupons (order/preview/); totalAmount is then the discounted amount.
export const pay = ({ courses, totalAmount, subject = '', payChannel = 'page', coupon = null }) =>
  http.post('order/pay/', {
    courses,
    total_amount: totalAmount,
    subject,
    pay_channel: payChannel,
    ...(coupon ? { coupon } : {}),
  })
// {code: 100} paid, {code: 101} not yet; 404 unknown order.
export const paymentStatus = (outTradeNo) =>
  http.get('order/success/', { params: { out_trade_no: outTradeNo } })
export const orders = (params = {}) => http.get('order/', { params })
export const order = (outTradeNo) => http.get(`order/${encodeURIComponent(outTradeNo)}/`)
// Where to pay one of my open orders again: the same trade at its own amount (coupon or flash
// price included); 409 once it is paid, cancelled or past its pay window.
export const payAgain = (outTradeNo, payChannel = 'page') =>
  http.post(`order/${encodeURIComponent(outTradeNo)}/pay/`, { pay_channel: payChannel })
export const cancel = (outTradeNo) => http.post(`order/${encodeURIComponent(outTradeNo)}/cancel/`)
