// Paging and filter state kept in the URL's query, so reload, back and shared links show the same page.
import { computed } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { DEFAULT_PAGE_SIZE, readPaging } from '../utils/paging'

export function useListQuery() {
  const route = useRoute()
  const router = useRouter()
  const page = computed(() => readPaging(route.query).page)
  const size = computed(() => readPaging(route.query).size)

  /**
   * Change some query values; anything but paging itself sends the buyer back to page 1.
   * `replace`: correct the address (a page past the end) without a new history entry.
   */
  function update(changes, { replace = false } = {}) {
    const query = { ...route.query, ...changes }
    if (!('page' in changes)) delete query.page
    for (const [key, value] of Object.entries(query)) {
      if (value === '' || value === null || value === undefined) delete query[key]
    }
    if (query.page === 1) delete query.page
    if (query.size === DEFAULT_PAGE_SIZE) delete query.size
    const target = { path: route.path, query }
    return replace ? router.replace(target) : router.push(target)
  }

  return { route, page, size, update }
}
