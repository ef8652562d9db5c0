// Messages the shell shows, in a chunk of their own loaded when first needed: Element Plus'
// message (auto-imported) stays out of the first script.
// The buy flow's messages and its new-price question (composables/useBuy): they show after a
// click, so pages with a buy button do not load Element Plus' message box to paint.
export const toast = ElMessage
export const messageBox = ElMessageBox

export function sessionEnded() {
  ElMessage.warning({ message: '登录已过期，请重新登录', grouping: true })
}
