// Routes of the storefront (history mode: Django answers every non-API path with index.html).
// Every page is its own chunk, loaded when first visited: the entry holds only the shell
// (header, footer, router, store) and the home page's chunk loads beside it.
import { createRouter, createWebHistory } from 'vue-router'
import { useUserStore } from '../stores/user'

const routes = [
  { path: '/', name: 'home', component: () => import('../views/HomePage.vue'), meta: { title: '首页' } },
  ...['free', 'actual', 'light'].map((courseType) => ({
    path: `/${courseType}`,
    name: courseType,
    component: () => import('../views/CourseList.vue'),
    props: { courseType },
  })),
  { path: '/search', name: 'search', component: () => import('../views/SearchPage.vue') },
  {
    path: '/course/:id(\\d+)',
    name: 'course',
    component: () => import('../views/CourseDetail.vue'),
    props: true,
  },
  { path: '/pay/success', name: 'pay-success', component: () => import('../views/PaySuccess.vue') },
  {
    path: '/orders',
    name: 'orders',
    component: () => import('../views/MyOrders.vue'),
    meta: { auth: true },
  },
  {
    path: '/my/courses',
    name: 'my-courses',
    component: () => import('../views/MyCourses.vue'),
    meta: { auth: true },
  },
  {
    path: '/learn/:id(\\d+)',
    name: 'learn',
    component: () => import('../views/CourseStudy.vue'),
    props: true,
    meta: { auth: true },
  },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('../views/NotFound.vue') },
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
  return true
})
