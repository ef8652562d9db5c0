// 立即购买 / 免费学习: place the order at the price shown, then Alipay (its phone cashier on
// phones), the study page, or the new price. Logged out, the purchase continues after login.
// `checkout` opens the 确认订单 page first (coupons), which places the order itself.
import { ref } from 'vue'
import { useRouter } from 'vue-router'
import { useUserStore } from '../stores/user'
import { pay } from '../api/order'
import { myCoupons } from '../api/coupon'
import { courseDetail } from '../api/course'
import { payChannel } from '../utils/device'
import { isFree, yuan } from '../utils/format'

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
      ElMessage.success('已开通，马上开始学习吧')
      router.push(`/learn/${course.id}`)
    } catch (err) {
      if (err.status === 409) {
        ElMessage.info('您已拥有这门课程')
        router.push(`/learn/${course.id}`)
        return
      }
      if (err.status === 400 && err.errors && err.errors.total_amount) {
        await confirmNewPrice(course)
        return
      }
      ElMessage.error(err.display)
    }
  }

  // The price moved between the page and the order: show the new one and let the buyer decide.
  async function confirmNewPrice(course) {
    const fresh = await courseDetail(course.id)
    try {
      await ElMessageBox.confirm(
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
      ElMessage.warning('请先登录')
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
      ElMessage.warning('请先登录')
      user.openLogin('password', null, () => checkout(course))
      return
    }
    router.push({ name: 'checkout', query: { courses: String(course.id) } })
  }

  // 去支付 of an open order: placing the same course, amount and coupon again hands the order
  // back with a pay URL for its trade. The coupon it holds is found in 我的优惠券 (held by it);
  // without it the amount would not match and the buyer would be asked about a new price.
  async function payOpenOrder(order) {
    if (buying.value) return
    buying.value = true
    try {
      const line = order.order_courses[0]
      const coupon = await couponHeldBy(order.out_trade_no)
      await place({ id: line.course, name: line.course_name, real_price: order.total_amount }, order.total_amount, coupon)
    } finally {
      buying.value = false
    }
  }

  return { buy, buying, checkout, payOpenOrder }
}

async function couponHeldBy(outTradeNo) {
  try {
    const page = await myCoupons({ status: 'usable', size: 50 })
    const held = page.results.find((c) => c.status === 'held' && c.out_trade_no === outTradeNo)
    return held ? held.id : null
  } catch {
    return null
  }
}
