// Routes of the storefront (history mode: Django answers every non-API path with index.html).
// Every page is its own chunk, loaded when first visited: the entry holds only the shell
// (header, footer, router, store). A page's first API requests (meta `preload`) start as the
// navigation does, beside the page's code (api/preload.js).
import { createRouter, createWebHistory } from 'vue-router'
import {
  COURSE_TYPES,
  categories,
  chapters,
  courseDetail,
  courseList,
  homeRow,
  listPageParams,
} from '../api/course'
import { banners } from '../api/home'
import { forgetPreloads, preload, preloadImage } from '../api/preload'
import { flashSales } from '../api/promotion'
import { useUserStore } from '../stores/user'
import { setTitle } from '../utils/title'

const routes = [
  {
    path: '/',
    name: 'home',
    component: () => import('../views/HomePage.vue'),
    meta: {
      title: '首页',
      preload: () => {
        preloadImage(preload(banners), (items) => items[0] && items[0].image)
        preload(flashSales)
        for (const courseType of Object.keys(COURSE_TYPES)) preload(homeRow, courseType)
      },
    },
  },
  ...['free', 'actual', 'light'].map((courseType) => ({
    path: `/${courseType}`,
    name: courseType,
    component: () => import('../views/CourseList.vue'),
    props: { courseType },
    meta: {
      title: COURSE_TYPES[courseType],
      preload: (to) => {
        preload(categories)
        const list = preload(courseList, listPageParams(courseType, to.query))
        preloadImage(list, (page) => page.results[0] && page.results[0].course_img)
      },
    },
  })),
  {
    path: '/search',
    name: 'search',
    component: () => import('../views/SearchPage.vue'),
    meta: { title: (to) => (to.query.word ? `搜索「${to.query.word}」` : '搜索课程') },
  },
  {
    path: '/course/:id(\\d+)',
    name: 'course',
    component: () => import('../views/CourseDetail.vue'),
    props: true,
    meta: {
      title: '课程详情',
      preload: (to) => {
        preloadImage(preload(courseDetail, to.params.id), (course) => course.course_img)
        preload(chapters, to.params.id)
      },
    },
  },
  {
    path: '/teacher/:id(\\d+)',
    name: 'teacher',
    component: () => import('../views/TeacherPage.vue'),
    props: true,
    meta: { title: '导师' },
  },
  {
    path: '/pay/success',
    name: 'pay-success',
    component: () => import('../views/PaySuccess.vue'),
    meta: { title: '支付结果' },
  },
  {
    path: '/orders',
    name: 'orders',
    component: () => import('../views/MyOrders.vue'),
    meta: { auth: true, title: '我的订单' },
  },
  {
    path: '/my/courses',
    name: 'my-courses',
    component: () => import('../views/MyCourses.vue'),
    meta: { auth: true, title: '我的课程' },
  },
  {
    path: '/checkout',
    name: 'checkout',
    component: () => import('../views/CheckoutPage.vue'),
    meta: { auth: true, title: '确认订单' },
  },
  {
    path: '/coupons',
    name: 'coupons',
    component: () => import('../views/CouponCenter.vue'),
    meta: { title: '领券中心' },
  },
  {
    path: '/my/coupons',
    name: 'my-coupons',
    component: () => import('../views/MyCoupons.vue'),
    meta: { auth: true, title: '我的优惠券' },
  },
  {
    path: '/flash',
    name: 'flash',
    component: () => import('../views/FlashSale.vue'),
    meta: { title: '限时秒杀' },
  },
  {
    path: '/learn/:id(\\d+)',
    name: 'learn',
    component: () => import('../views/CourseStudy.vue'),
    props: true,
    meta: { auth: true, title: '学习' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('../views/NotFound.vue'),
    meta: { title: '页面不存在' },
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  // Back/forward return where the reader was; the skip link (#main) goes to the content.
  scrollBehavior: (to, from, saved) => saved || (to.hash ? { el: to.hash } : { top: 0 }),
})

// Pages that need an account open the login dialog and continue there after logging in.
router.beforeEach((to, from) => {
  const user = useUserStore()
  if (to.meta.auth && !user.isLoggedIn) {
    user.openLogin('password', to.fullPath)
    return from.matched.length ? false : { name: 'home' }
  }
  // (The same address again, e.g. the logo on the home page, reloads nothing.)
  if (!from.matched.length || to.fullPath !== from.fullPath) {
    forgetPreloads()
    if (to.meta.preload) to.meta.preload(to)
  }
  return true
})

// Every route names itself; a page that loads a name (a course, a teacher) sets it again.
router.afterEach((to, from, failure) => {
  if (failure) return
  const title = typeof to.meta.title === 'function' ? to.meta.title(to) : to.meta.title
  setTitle(title)
})
