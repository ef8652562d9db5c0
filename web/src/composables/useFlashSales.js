// The flash sales and a clock on the server's time (an offset measured at each load), ticking
// every second; a countdown that reaches zero loads the list again (seats, the next state).
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { flashSales } from '../api/promotion'
import { clockOffset, countdownTarget, serverNow } from '../utils/countdown'

export function useFlashSales() {
  const sales = ref([])
  const now = ref(Date.now())
  const loaded = ref(false)
  const error = ref('')
  let offset = 0
  let timer = null

  async function load() {
    error.value = ''
    const sentAt = Date.now()
    try {
      const body = await flashSales()
      offset = clockOffset(body.server_time, sentAt, Date.now())
      sales.value = body.sales
      now.value = serverNow(offset)
    } catch (err) {
      error.value = err.display
    } finally {
      loaded.value = true
    }
  }

  function tick() {
    const before = now.value
    now.value = serverNow(offset)
    // A sale starts or ends between two ticks: ask the server what it says now.
    const crossed = sales.value.some((sale) => {
      const target = countdownTarget(sale, before)
      return target !== null && target <= now.value
    })
    if (crossed) load()
  }

  onMounted(() => {
    load()
    timer = window.setInterval(tick, 1000)
  })
  onBeforeUnmount(() => window.clearInterval(timer))

  return { sales, now, loaded, error, load }
}
