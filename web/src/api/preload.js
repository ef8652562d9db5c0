// A page's first API requests, started by the router while the page's code is still loading
// (route meta `preload`): on a phone's slow round trips the answer is then there when the page
// mounts instead of one more round trip after it. Same client, same auth and error handling:
// the router calls the API module's own function, and the page takes that call's promise.
let started = []
let imageLinks = []

/** Start `request(...args)` now, for the page being opened; its promise, for preloadImage. */
export function preload(request, ...args) {
  const promise = request(...args)
  promise.catch(() => {}) // the page sees the error when it takes the promise
  started.push({ request, key: JSON.stringify(args), promise })
  return promise
}

/**
 * Fetch the picture the page opens with (its largest paint: a banner, a cover) as soon as an
 * answer names it, while the page's code still loads: the <img> then finds it in the cache.
 */
export function preloadImage(answer, pick) {
  answer.then(
    (body) => {
      const url = pick(body)
      if (!url) return
      const link = Object.assign(document.createElement('link'), { rel: 'preload', as: 'image', href: url })
      link.fetchPriority = 'high'
      document.head.append(link)
      imageLinks.push(link)
    },
    () => {},
  )
}

/** The answer of the same call if the router started it for this page (once), else a new call. */
export function preloaded(request, ...args) {
  const key = JSON.stringify(args)
  const index = started.findIndex((call) => call.request === request && call.key === key)
  if (index < 0) return request(...args)
  return started.splice(index, 1)[0].promise
}

/** A new navigation: what the last page did not take is no longer anybody's. */
export function forgetPreloads() {
  started = []
  for (const link of imageLinks) link.remove()
  imageLinks = []
}
