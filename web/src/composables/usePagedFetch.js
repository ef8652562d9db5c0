// One page of a paginated API list (DRF's {count, results}) and the states a list page shows.
import { ref } from 'vue'

export function usePagedFetch() {
  const rows = ref([])
  const total = ref(0)
  const loading = ref(false)
  const loaded = ref(false) // a first answer (or error) has arrived: "nothing found" may show
  const error = ref('')

  /**
   * Replace the rows with page `page` of `request(page)`; a failure empties them and says why
   * (the page shows it with 重试, never as an empty list). A page past the end (DRF answers
   * 404: an old link, fewer courses now) asks page 1 for the count and calls `toPage` with the
   * last page instead of showing the raw "无效页面。".
   */
  async function fetchPage(request, { page = 1, size = 10, toPage = null } = {}) {
    loading.value = true
    error.value = ''
    let moved = false
    try {
      const data = await request(page)
      rows.value = data.results
      total.value = data.count
    } catch (err) {
      moved = err.status === 404 && page > 1 && toPage && (await toLastPage(request, page, size, toPage))
      if (!moved) {
        rows.value = []
        total.value = 0
        error.value = err.display
      }
    } finally {
      if (!moved) {
        loading.value = false
        loaded.value = true
      }
    }
  }

  async function toLastPage(request, page, size, toPage) {
    try {
      const first = await request(1)
      const last = Math.max(1, Math.ceil(first.count / size))
      if (last >= page) return false // not past the end after all: show the error
      toPage(last)
      return true
    } catch {
      return false
    }
  }

  /** No request to make (e.g. an empty search): show an empty, finished list. */
  function clear() {
    error.value = ''
    rows.value = []
    total.value = 0
    loaded.value = true
  }

  return { rows, total, loading, loaded, error, fetchPage, clear }
}
