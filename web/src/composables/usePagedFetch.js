// One page of a paginated API list (DRF's {count, results}) and the states a list page shows.
import { ref } from 'vue'

export function usePagedFetch() {
  const rows = ref([])
  const total = ref(0)
  const loading = ref(false)
  const loaded = ref(false) // a first answer (or error) has arrived: "nothing found" may show
  const error = ref('')

  /** Replace the rows with the page `request()` answers; a failure empties them and says why. */
  async function fetchPage(request) {
    loading.value = true
    error.value = ''
    try {
      const data = await request()
      rows.value = data.results
      total.value = data.count
    } catch (err) {
      rows.value = []
      total.value = 0
      error.value = err.display
    } finally {
      loading.value = false
      loaded.value = true
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
