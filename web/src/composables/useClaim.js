// 领取 a coupon (领券中心, the course page): logged out, it goes on once logged in; afterwards
// the button says 已领取 once the per-user limit is reached, or why the server refused.
import { reactive } from 'vue'
import { claim, myCoupons } from '../api/coupon'
import { useUserStore } from '../stores/user'

export function useClaim() {
  const user = useUserStore()
  // coupon id -> { count: claimed here, refused: the server's reason, busy }
  const claims = reactive({})

  function entry(coupon) {
    if (!claims[coupon.id]) claims[coupon.id] = { count: 0, refused: '', busy: false }
    return claims[coupon.id]
  }

  async function claimCoupon(coupon) {
    if (!user.isLoggedIn) {
      ElMessage.warning('请先登录再领取')
      user.openLogin('password', null, () => claimCoupon(coupon))
      return
    }
    const state = entry(coupon)
    if (state.busy) return
    state.busy = true
    try {
      await claim(coupon.id)
      state.count += 1
      ElMessage.success(`「${coupon.name}」领取成功`)
    } catch (err) {
      state.refused = err.display
      ElMessage.warning(err.display)
    } finally {
      state.busy = false
    }
  }

  // What the shopper already holds (usable or used) counts toward each coupon's limit.
  async function loadHeld() {
    if (!user.isLoggedIn) return
    try {
      const pages = await Promise.all(
        ['usable', 'used'].map((status) => myCoupons({ status, size: 50 }, { loginPrompt: false })),
      )
      const counts = {}
      for (const held of pages.flatMap((page) => page.results)) {
        counts[held.coupon.id] = (counts[held.coupon.id] || 0) + 1
      }
      for (const [id, count] of Object.entries(counts)) {
        const state = entry({ id })
        state.count = Math.max(state.count, count)
      }
    } catch {
      // Unknown: every coupon offers 领取 and the server says when the limit is reached.
    }
  }

  /** open | claimed (limit reached here) | refused (the server said why). */
  function claimState(coupon) {
    const state = claims[coupon.id]
    if (!state) return 'open'
    if (state.refused) return 'refused'
    return state.count >= coupon.per_user_limit ? 'claimed' : 'open'
  }

  return { claims, claimCoupon, claimState, loadHeld }
}
