// How prices and times look in the shop. Prices stay strings: the server's decimals, never floats.
export function isFree(price) {
  return Number(price) === 0
}

export function yuan(price) {
  return isFree(price) ? '免费' : `¥${price}`
}

export function dateTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
