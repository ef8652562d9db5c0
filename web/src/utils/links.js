// Where a banner (or any link staff typed) may send a click: a path of the shop, handled by the
// router, or an http(s) page. Anything else (javascript:, data:, vbscript:, a typo) is no link
// at all: the server refuses such links too, but a row saved before it did may still hold one.

// A path inside the shop ("/course/3?x=1") for the router, or null.
export function appPath(link) {
  const url = parse(link)
  return url && url.origin === window.location.origin ? url.pathname + url.search + url.hash : null
}

// An http(s) URL of another site, safe to put in href, or null.
export function externalHref(link) {
  const url = parse(link)
  if (!url || url.origin === window.location.origin) return null
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
}

function parse(link) {
  if (!link || typeof link !== 'string') return null
  try {
    return new URL(link, window.location.origin)
  } catch {
    return null
  }
}
