// 立即购买 / 免费学习: place the order at the price shown, then Alipay (its phone cashier on
// phones), the study page, or the new price. Logged out, the purchase continues after login.
// `checkout` opens the 确认订单 page first (coupons), which places the order itself.
import { ref } from 'vue'
import { useRouter } from 'vue-router'
import { useUserStore } from '../stores/user'
import { pay, payAgain } from '../api/order'
import { courseDetail } from '../api/course'
import { payChannel } from '../utils/device'
import { isFree, yuan } from '../utils/format'

// Messages and the new-price question come after a click: their code loads then.
const notices = () => import('../utils/notices')
const toast = (type, message) => notices().then((loaded) => loaded.toast[type](message))

export function useBuy() {
  const user = useUserStore()
  const router = useRouter()
  const buying = ref(false)

  async function place(course, totalAmount, coupon = null) {
    try {
      const body = await pay({
        courses: [course.id],
        totalAmount,
        subject: course.name,
        payChannel: payChannel(),
        coupon,
      })
      if (body.pay_url) {
        window.location.assign(body.pay_url)
        return
      }
      toast('success', '已开通，马上开始学习吧')
      router.push(`/learn/${course.id}`)
    } catch (err) {
      if (err.status === 409) {
        toast('info', '您已拥有这门课程')
        router.push(`/learn/${course.id}`)
        return
      }
      if (err.status === 400 && err.errors && err.errors.total_amount) {
        await confirmNewPrice(course)
        return
      }
      toast('error', err.display)
    }
  }

  // The price moved between the page and the order: show the new one and let the buyer decide.
  async function confirmNewPrice(course) {
    const [fresh, { messageBox }] = await Promise.all([courseDetail(course.id), notices()])
    try {
      await messageBox.confirm(
        `「${fresh.name}」的价格已变动，当前价格 ${yuan(fresh.real_price)}（页面显示 ${yuan(course.real_price)}）。是否按新价格购买？`,
        '价格已变动',
        {
          confirmButtonText: isFree(fresh.real_price) ? '免费学习' : `按 ${yuan(fresh.real_price)} 购买`,
          cancelButtonText: '取消',
          type: 'warning',
        },
      )
    } catch {
      return
    }
    await place(fresh, fresh.real_price)
  }

  async function buy(course) {
    if (!user.isLoggedIn) {
      toast('warning', '请先登录')
      // Once logged in, the purchase goes on from where it was asked for.
      user.openLogin('password', null, () => buy(course))
      return
    }
    if (buying.value) return
    buying.value = true
    try {
      await place(course, course.real_price)
    } finally {
      buying.value = false
    }
  }

  // 立即购买: the 确认订单 page (prices, coupons, the amount), which places the order.
  // Logged out, it opens once logged in. A free course has nothing to confirm.
  function checkout(course) {
    if (isFree(course.real_price)) return buy(course)
    if (!user.isLoggedIn) {
      toast('warning', '请先登录')
      user.openLogin('password', null, () => checkout(course))
      return
    }
    router.push({ name: 'checkout', query: { courses: String(course.id) } })
  }

  // 去支付 of an open order: a pay URL for the same trade at the order's own amount, whatever
  // coupon or flash-sale price made it. An order no longer payable (paid, cancelled, past its
  // pay window) is said; the caller reloads it.
  async function payOpenOrder(order) {
    if (buying.value) return
    buying.value = true
    try {
      const body = await payAgain(order.out_trade_no, payChannel())
      window.location.assign(body.pay_url)
    } catch (err) {
      toast('error', err.display)
    } finally {
      buying.value = false
    }
  }

  return { buy, buying, checkout, payOpenOrder }
}
