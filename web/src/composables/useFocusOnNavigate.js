// After a navigation inside the shop, move the keyboard focus (and a screen reader) to the new
// page's <h1>, as a page load would start at the top. The heading may come with the page's data,
// so wait for it a little; the first load leaves focus alone (the skip link comes first).
import { onBeforeUnmount } from 'vue'
import { useRouter } from 'vue-router'

const WAIT_MS = 5000

export function focusHeading(root = document) {
  const heading = root.querySelector('main h1')
  if (!heading) return false
  if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1')
  heading.focus({ preventScroll: true })
  return true
}

export function useFocusOnNavigate() {
  const router = useRouter()
  let observer = null
  let timer = null

  function stop() {
    if (observer) observer.disconnect()
    clearTimeout(timer)
    observer = null
  }

  const remove = router.afterEach((to, from, failure) => {
    if (failure || !from.matched.length || to.path === from.path) return
    stop()
    // Wait for the new page's heading (the old page is gone once the view has re-rendered).
    requestAnimationFrame(() => {
      if (focusHeading()) return
      observer = new MutationObserver(() => focusHeading() && stop())
      observer.observe(document.querySelector('main') || document.body, { childList: true, subtree: true })
      timer = setTimeout(stop, WAIT_MS)
    })
  })
  onBeforeUnmount(() => {
    stop()
    remove()
  })
}
