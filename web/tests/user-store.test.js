// The user store: login state kept in localStorage, refresh rotation, refresh before expiry, logout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

vi.mock('../src/api/user', () => ({
  passwordLogin: vi.fn(),
  smsLogin: vi.fn(),
  register: vi.fn(),
  refreshToken: vi.fn(),
  logout: vi.fn(),
}))

const userApi = await import('../src/api/user')
const { ADOPT_WAIT_MS, installAuth, useUserStore, MIN_REFRESH_SECONDS, REFRESH_MARGIN_SECONDS } = await import(
  '../src/stores/user'
)

function jwt(exp) {
  const payload = btoa(JSON.stringify({ exp })).replace(/=+$/, '')
  return `header.${payload}.signature`
}

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.clearAllMocks()
})

describe('user store', () => {
  it('keeps a login across page loads', async () => {
    userApi.passwordLogin.mockResolvedValue({ token: jwt(9e9), refresh: 'r1', username: 'demo', icon: '' })
    await useUserStore().passwordLogin({ username: 'demo', password: 'x' })
    setActivePinia(createPinia())
    const again = useUserStore()
    expect(again.isLoggedIn).toBe(true)
    expect(again.username).toBe('demo')
  })

  it('uses the refresh token the refresh answer rotates in, and keeps the old one otherwise', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    userApi.refreshToken.mockResolvedValueOnce({ token: jwt(9e9 + 1), refresh: 'r2' })
    expect(await store.refreshToken()).toBe(true)
    expect(store.refresh).toBe('r2')
    userApi.refreshToken.mockResolvedValueOnce({ token: jwt(9e9 + 2) })
    await store.refreshToken()
    expect(store.refresh).toBe('r2')
    expect(userApi.refreshToken).toHaveBeenLastCalledWith('r2')
  })

  it('refreshes the access token a minute before it expires', async () => {
    const now = Date.now()
    const store = useUserStore()
    userApi.refreshToken.mockResolvedValue({ token: jwt(9e9) })
    store.applyLogin({ token: jwt(Math.floor(now / 1000) + 600), refresh: 'r1', username: 'demo' })
    vi.advanceTimersByTime((600 - REFRESH_MARGIN_SECONDS - 5) * 1000)
    expect(userApi.refreshToken).not.toHaveBeenCalled()
    vi.advanceTimersByTime(10 * 1000)
    expect(userApi.refreshToken).toHaveBeenCalledWith('r1')
  })

  it('refreshes an expired token at page load before anything else', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600
    localStorage.setItem('luffy.auth', JSON.stringify({ token: jwt(past), refresh: 'r1', username: 'demo' }))
    userApi.refreshToken.mockResolvedValue({ token: jwt(9e9) })
    installAuth(useUserStore())
    expect(userApi.refreshToken).toHaveBeenCalledWith('r1')
  })

  it('does not spin when every new token already looks expired (a clock far off)', async () => {
    const store = useUserStore()
    const past = Math.floor(Date.now() / 1000) - 3600
    userApi.refreshToken.mockResolvedValue({ token: jwt(past) })
    store.applyLogin({ token: jwt(past), refresh: 'r1', username: 'demo' })
    expect(userApi.refreshToken).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(MIN_REFRESH_SECONDS * 1000)
    expect(userApi.refreshToken).toHaveBeenCalledTimes(1)
  })

  it('ends the session when the refresh token is refused', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    userApi.refreshToken.mockRejectedValue({ status: 401 })
    expect(await store.refreshToken()).toBe(false)
    expect(store.isLoggedIn).toBe(false)
    expect(localStorage.getItem('luffy.auth')).toBeNull()
  })

  it('logs out locally even when the server has no logout endpoint (404)', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    userApi.logout.mockRejectedValue({ status: 404 })
    await store.logout()
    expect(userApi.logout).toHaveBeenCalledWith('r1')
    expect(store.isLoggedIn).toBe(false)
  })

  it('logs in with the new account after registering', async () => {
    userApi.register.mockResolvedValue({ code: 100 })
    userApi.passwordLogin.mockResolvedValue({ token: jwt(9e9), refresh: 'r', username: 'u13912345678' })
    const store = useUserStore()
    await store.register({ mobile: '13912345678', code: '123456', password: 'pw-123456' })
    expect(userApi.passwordLogin).toHaveBeenCalledWith({ username: '13912345678', password: 'pw-123456' })
    expect(store.username).toBe('u13912345678')
  })

  it('takes the tokens another tab rotated instead of sending its own, already dead, refresh token', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    // The other tab swapped r1 for r2 and stored it (this tab heard nothing yet).
    localStorage.setItem('luffy.auth', JSON.stringify({ token: jwt(9e9 + 5), refresh: 'r2', username: 'demo' }))
    expect(await store.refreshToken()).toBe(true)
    expect(userApi.refreshToken).not.toHaveBeenCalled()
    expect(store.refresh).toBe('r2')
    expect(store.token).toBe(jwt(9e9 + 5))
  })

  it('stays logged in when refused because another tab rotated the token during the swap', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    userApi.refreshToken.mockImplementation(async () => {
      localStorage.setItem('luffy.auth', JSON.stringify({ token: jwt(9e9 + 5), refresh: 'r2', username: 'demo' }))
      throw { status: 401 }
    })
    expect(await store.refreshToken()).toBe(true)
    expect(store.isLoggedIn).toBe(true)
    expect(store.refresh).toBe('r2')
    expect(JSON.parse(localStorage.getItem('luffy.auth')).refresh).toBe('r2')
  })

  it('keeps the session when the refresh fails without an answer (network down)', async () => {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    userApi.refreshToken.mockRejectedValue({ status: 0 })
    expect(await store.refreshToken()).toBe(false)
    expect(store.refresh).toBe('r1')
    expect(localStorage.getItem('luffy.auth')).not.toBeNull()
  })

  it('follows another tab: its login or refresh is taken, its logout ends this tab too', async () => {
    const store = useUserStore()
    installAuth(store)
    const saved = { token: jwt(9e9), refresh: 'r9', username: 'other', icon: '' }
    localStorage.setItem('luffy.auth', JSON.stringify(saved))
    window.dispatchEvent(new StorageEvent('storage', { key: 'luffy.auth', newValue: JSON.stringify(saved) }))
    expect(store.username).toBe('other')
    expect(store.refresh).toBe('r9')
    localStorage.removeItem('luffy.auth')
    window.dispatchEvent(new StorageEvent('storage', { key: 'luffy.auth', newValue: null }))
    expect(store.isLoggedIn).toBe(false)
    expect(store.refresh).toBe('')
    window.dispatchEvent(new StorageEvent('storage', { key: 'something.else', newValue: 'x' }))
    expect(store.isLoggedIn).toBe(false)
  })
})

describe('tabs taking turns to refresh (Web Locks)', () => {
  let otherTabHoldsTheLock
  beforeEach(() => {
    otherTabHoldsTheLock = true
    // Web Locks as Chromium runs them, with another tab holding the lock until asked again.
    Object.defineProperty(navigator, 'locks', {
      configurable: true,
      value: {
        request: async (name, options, callback) => {
          if (typeof options === 'function') return options({ name })
          return callback(options.ifAvailable && otherTabHoldsTheLock ? null : { name })
        },
      },
    })
  })
  afterEach(() => {
    delete navigator.locks
  })

  function loggedIn() {
    const store = useUserStore()
    store.applyLogin({ token: jwt(9e9), refresh: 'r1', username: 'demo' })
    installAuth(store)
    return store
  }

  it('waits for the tokens of the tab that held the lock instead of sending its own', async () => {
    const store = loggedIn()
    const refreshed = store.refreshToken()
    // The other tab's write reaches this tab a moment after it released the lock.
    await vi.advanceTimersByTimeAsync(20)
    const saved = { token: jwt(9e9 + 5), refresh: 'r2', username: 'demo', icon: '' }
    localStorage.setItem('luffy.auth', JSON.stringify(saved))
    window.dispatchEvent(new StorageEvent('storage', { key: 'luffy.auth', newValue: JSON.stringify(saved) }))
    expect(await refreshed).toBe(true)
    expect(userApi.refreshToken).not.toHaveBeenCalled()
    expect(store.refresh).toBe('r2')
  })

  it('sends its own token when nothing arrives from the other tab in time', async () => {
    const store = loggedIn()
    userApi.refreshToken.mockResolvedValue({ token: jwt(9e9 + 5), refresh: 'r3' })
    const refreshed = store.refreshToken()
    await vi.advanceTimersByTimeAsync(ADOPT_WAIT_MS - 50)
    expect(userApi.refreshToken).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(50)
    expect(await refreshed).toBe(true)
    expect(userApi.refreshToken).toHaveBeenCalledWith('r1')
    expect(store.refresh).toBe('r3')
  })

  it('does not wait when no other tab was refreshing', async () => {
    otherTabHoldsTheLock = false
    const store = loggedIn()
    userApi.refreshToken.mockResolvedValue({ token: jwt(9e9 + 5), refresh: 'r3' })
    expect(await store.refreshToken()).toBe(true)
    expect(userApi.refreshToken).toHaveBeenCalledWith('r1')
  })
})

describe('session end and login continuation', () => {
  it('ends a refused session once, counting it for the message', async () => {
    const store = useUserStore()
    store.applyLogin({ token: 'garbage', refresh: 'garbage', username: 'demo' })
    userApi.refreshToken.mockRejectedValue({ status: 401 })
    expect(await store.refreshToken()).toBe(false)
    store.endSession() // a second failing request: nothing more to end
    expect(store.sessionEnds).toBe(1)
    expect(store.isLoggedIn).toBe(false)
    expect(store.dialogVisible).toBe(false)
  })

  it('hands the action that asked for the login back once, and drops it on close', () => {
    const store = useUserStore()
    const action = vi.fn()
    store.openLogin('password', null, action)
    expect(store.takeAfterLogin().action).toBe(action)
    expect(store.takeAfterLogin().action).toBe(null)
    store.openLogin('password', null, action)
    store.closeLogin()
    expect(store.takeAfterLogin().action).toBe(null)
  })
})
