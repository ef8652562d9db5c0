// Messages the shell shows, in a chunk of their own loaded when first needed: Element Plus'
// message (auto-imported) stays out of the first script.
export function sessionEnded() {
  ElMessage.warning({ message: '登录已过期，请重新登录', grouping: true })
}
