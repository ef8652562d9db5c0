// Promotions: apps/promotion (flash sales).
import { http } from './http'

// {server_time, sales}: the sales on now and coming.
export const flashSales = () => http.get('promotion/flash/')
// 201 {pay_url, out_trade_no, total_amount, expires_at}; 409 sold out or holding; 400 not on.
// payChannel: 'page' (Alipay's desktop cashier) or 'wap' (its phone one), as for order/pay/.
export const buyFlashSale = (id, payChannel = 'page') =>
  http.post(`promotion/flash/${id}/buy/`, { pay_channel: payChannel })
