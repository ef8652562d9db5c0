// Which page of a list an address asks for (?page=, ?size=): the list pages (composables/
// useListQuery) and the router's preload of a list's first page (api/course listPageParams).
export const DEFAULT_PAGE_SIZE = 10

function positive(value, fallback) {
  const n = Number.parseInt(value, 10)
  return Number.isFinite(n) && n > 0 ? n : fallback
}

/** The page number and size an address asks for. */
export function readPaging(query) {
  return { page: positive(query.page, 1), size: positive(query.size, DEFAULT_PAGE_SIZE) }
}
