// How prices and times look in the shop. Prices stay strings: the server's decimals, never floats.
export function isFree(price) {
  return Number(price) === 0
}

/** One price format everywhere: ¥199.00 (the server's two decimals), or 免费 for 0. */
export function yuan(price) {
  if (isFree(price)) return '免费'
  return money(price)
}

/** An amount that is not a price (a discount, an amount off): ¥0.00 stays ¥0.00. */
export function money(amount) {
  const text = String(amount)
  return `¥${/^\d+\.\d{2}$/.test(text) ? text : Number(text).toFixed(2)}`
}

export function dateTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
