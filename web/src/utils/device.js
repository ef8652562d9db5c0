// Which Alipay cashier suits this device: the phone one (wap) on phones, the desktop page else.
export function isPhone(nav = globalThis.navigator) {
  if (!nav) return false
  if (nav.userAgentData && typeof nav.userAgentData.mobile === 'boolean') {
    return nav.userAgentData.mobile
  }
  return /Android.+Mobile|iPhone|iPod|Windows Phone|Mobi/i.test(nav.userAgent || '')
}

export function payChannel(nav = globalThis.navigator) {
  return isPhone(nav) ? 'wap' : 'page'
}
