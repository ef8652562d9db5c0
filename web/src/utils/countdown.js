// Flash-sale clocks: the countdown runs on the server's time (the list sends it), so a phone
// whose clock is wrong still opens and closes the sale when the server does.

/**
 * How far the server's clock is ahead of this device's, in ms: the server's time minus the
 * device's at the middle of the request (the answer was stamped somewhere in between).
 */
export function clockOffset(serverTime, sentAt, receivedAt) {
  const server = Date.parse(serverTime)
  if (Number.isNaN(server)) return 0
  return server - (sentAt + receivedAt) / 2
}

/** The server's time now, in ms, from the device's clock and the offset. */
export function serverNow(offset, deviceNow = Date.now()) {
  return deviceNow + offset
}

/** coming (即将开始), on (抢购), soldout (已抢光) or over (已结束) at `now` (server ms). */
export function saleState(sale, now) {
  if (now >= Date.parse(sale.ends_at)) return 'over'
  if (now < Date.parse(sale.starts_at)) return 'coming'
  if (sale.seats_left <= 0) return 'soldout'
  return 'on'
}

/** What the countdown counts to: the start of a coming sale, the end of a running one. */
export function countdownTarget(sale, now) {
  const state = saleState(sale, now)
  if (state === 'coming') return Date.parse(sale.starts_at)
  if (state === 'on') return Date.parse(sale.ends_at)
  return null
}

/** 03:04:05, or 2天 03:04:05 past a day; never negative. */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000))
  const days = Math.floor(total / 86400)
  const pad = (n) => String(n).padStart(2, '0')
  const clock = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`
  return days ? `${days}天 ${clock}` : clock
}
