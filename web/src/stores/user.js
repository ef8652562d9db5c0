// Who is logged in, the login dialog, and keeping the access token fresh.
import { defineStore } from 'pinia'
import * as userApi from '../api/user'
import { setAuthHooks } from '../api/http'
import { tokenExpiry } from '../utils/jwt'

const STORAGE_KEY = 'luffy.auth'
// Refresh this long before the access token expires, so no request goes out with a dead token.
export const REFRESH_MARGIN_SECONDS = 60
export const MIN_REFRESH_SECONDS = 30

function load() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY)) || {}
  } catch {
    return {}
  }
}

const REFRESH_LOCK = 'luffy.auth.refresh'
// How long a tab that waited for another tab's refresh waits for its tokens to arrive.
export const ADOPT_WAIT_MS = 1000

/**
 * Run `fn` while no other tab of this shop refreshes. Every tab shares one refresh token in
 * localStorage and the server rotates it (the old one is blacklisted), so two tabs swapping the
 * same token at once would see one of them refused. `fn` learns whether another tab held the
 * lock first (`waited`): that tab has most likely rotated the token. Browsers without Web Locks
 * run `fn` at once; refreshOnce then re-reads storage when refused.
 */
async function withRefreshLock(fn) {
  const locks = globalThis.navigator && globalThis.navigator.locks
  if (!locks) return fn({ waited: false })
  const free = await locks.request(REFRESH_LOCK, { ifAvailable: true }, async (lock) =>
    lock ? { value: await fn({ waited: false }) } : null,
  )
  if (free) return free.value
  return locks.request(REFRESH_LOCK, () => fn({ waited: true }))
}

/**
 * Resolves when another tab changes the stored session, or after `ms`. Chromium hands a
 * localStorage write to the other tabs a moment after it is made, so a tab can take the lock
 * another tab has just released and still read that tab's old token.
 */
function storedSessionChange(ms) {
  return new Promise((resolve) => {
    const done = () => {
      globalThis.removeEventListener?.('storage', onStorage)
      clearTimeout(timer)
      resolve()
    }
    const onStorage = (event) => {
      if (event.key === STORAGE_KEY || event.key === null) done()
    }
    const timer = setTimeout(done, ms)
    globalThis.addEventListener?.('storage', onStorage)
  })
}

let refreshTimer = null
let refreshing = null
// What to do once the visitor has logged in (e.g. the purchase that asked for the login).
// Kept outside the state: a function is not data to persist or inspect.
let afterLoginAction = null

export const useUserStore = defineStore('user', {
  state: () => {
    const saved = load()
    return {
      token: saved.token || '',
      refresh: saved.refresh || '',
      username: saved.username || '',
      icon: saved.icon || '',
      dialogVisible: false,
      dialogTab: 'password',
      // Where to go once the visitor has logged in (a page that needs an account).
      afterLogin: null,
      // How many times the server ended this tab's session (LoginDialog says so each time).
      sessionEnds: 0,
    }
  },
  getters: {
    isLoggedIn: (state) => Boolean(state.token),
  },
  actions: {
    /**
     * Open the login dialog. `afterLogin` is a path to go to once logged in; `action` a
     * function to run then instead (continue the purchase that asked for the login).
     */
    openLogin(tab = 'password', afterLogin = null, action = null) {
      this.dialogTab = tab
      this.afterLogin = afterLogin
      afterLoginAction = action
      this.dialogVisible = true
    },
    closeLogin() {
      this.dialogVisible = false
      afterLoginAction = null
    },
    /** What the login was for: { path, action }, each once (the dialog calls it on success). */
    takeAfterLogin() {
      const next = { path: this.afterLogin, action: afterLoginAction }
      this.afterLogin = null
      afterLoginAction = null
      return next
    },
    save() {
      const { token, refresh, username, icon } = this
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ token, refresh, username, icon }))
    },
    applyLogin(body) {
      this.token = body.token
      this.refresh = body.refresh || this.refresh
      this.username = body.username || this.username
      this.icon = body.icon || this.icon
      this.save()
      this.scheduleRefresh()
    },
    /** End the session in this tab and in storage (so in every tab: see installAuth). */
    clear() {
      this.forget()
      localStorage.removeItem(STORAGE_KEY)
    },
    /**
     * The server refused the session (expired, revoked, or garbage in storage): drop it and
     * say so, once, without opening the login dialog over the page the visitor was reading.
     */
    endSession() {
      if (!this.token && !this.refresh) return
      this.clear()
      this.sessionEnds += 1
    },
    async passwordLogin(form) {
      this.applyLogin(await userApi.passwordLogin(form))
    },
    async smsLogin(form) {
      this.applyLogin(await userApi.smsLogin(form))
    },
    async register(form) {
      await userApi.register(form)
      // Registration answers no token: log in with what the buyer just typed.
      this.applyLogin(await userApi.passwordLogin({ username: form.mobile, password: form.password }))
    },
    /** Take the session another tab stored (it logged in, or rotated the refresh token). */
    adopt(saved) {
      this.token = saved.token || ''
      this.refresh = saved.refresh || ''
      this.username = saved.username || ''
      this.icon = saved.icon || ''
      this.scheduleRefresh()
    },
    /** Forget the session in this tab only: another tab logged out and emptied storage. */
    forget() {
      clearTimeout(refreshTimer)
      refreshTimer = null
      this.token = ''
      this.refresh = ''
      this.username = ''
      this.icon = ''
    },
    /** Swap the refresh token for a new access token; false when the session is over. */
    refreshToken() {
      if (!this.refresh) return Promise.resolve(false)
      // Requests that fail together share one refresh; tabs take turns (withRefreshLock).
      refreshing ||= withRefreshLock((turn) => this.refreshOnce(turn)).finally(() => {
        refreshing = null
      })
      return refreshing
    },
    async refreshOnce({ waited = false } = {}) {
      // While this tab waited for the lock another may have refreshed: its tokens are the
      // live ones, and ours is already blacklisted. They may not have reached this tab yet.
      const mine = this.refresh
      let saved = load()
      if (waited && saved.refresh === mine) {
        await storedSessionChange(ADOPT_WAIT_MS)
        saved = load()
      }
      // The storage listener (installAuth) may have taken them, or ended the session, meanwhile.
      if (this.refresh !== mine) return Boolean(this.refresh)
      if (saved.refresh && saved.refresh !== this.refresh) {
        this.adopt(saved)
        return true
      }
      if (!this.refresh) return false
      const sent = this.refresh
      try {
        const body = await userApi.refreshToken(sent)
        // With rotation on, the old refresh token is dead: keep the new one.
        this.applyLogin({ token: body.token, refresh: body.refresh })
        return true
      } catch (err) {
        if (err.status !== 401 && err.status !== 400) return false
        // Refused: a tab without Web Locks may have rotated the token meanwhile.
        const now = load()
        if (now.refresh && now.refresh !== sent) {
          this.adopt(now)
          return true
        }
        this.endSession()
        return false
      }
    },
    /**
     * Refresh REFRESH_MARGIN_SECONDS before the access token expires. On page load a token that
     * has expired (the tab slept overnight) is refreshed at once, before any request goes out;
     * otherwise never sooner than MIN_REFRESH_SECONDS, so a browser whose clock is far off
     * cannot spin on refreshes that all look expired.
     */
    scheduleRefresh({ now = Date.now(), atStart = false } = {}) {
      clearTimeout(refreshTimer)
      refreshTimer = null
      const exp = tokenExpiry(this.token)
      if (!exp || !this.refresh) return null
      let delay = Math.max(0, exp * 1000 - now - REFRESH_MARGIN_SECONDS * 1000)
      if (delay === 0 && atStart) {
        this.refreshToken()
        return 0
      }
      delay = Math.max(delay, MIN_REFRESH_SECONDS * 1000)
      // setTimeout overflows past ~24.8 days; a token that long-lived is rescheduled on load.
      refreshTimer = setTimeout(() => this.refreshToken(), Math.min(delay, 2 ** 31 - 1))
      return delay
    },
    async logout() {
      try {
        if (this.refresh) await userApi.logout(this.refresh)
      } catch {
        // 404 (no logout endpoint on this server) or a dead token: logged out locally either way.
      } finally {
        this.clear()
      }
    },
  },
})

/** Connects the API layer to this store: the login header, refresh on 401, and expiry. */
export function installAuth(store) {
  setAuthHooks({
    token: () => store.token,
    refresh: () => store.refreshToken(),
    ready: () => (refreshing ? refreshing.then(() => undefined) : Promise.resolve()),
    expired: () => store.endSession(),
    loginNeeded: () => {
      if (!store.dialogVisible) store.openLogin('password')
    },
  })
  // Another tab logged in, refreshed or logged out: this one follows, so the tabs never send a
  // refresh token the server has already rotated, and a logout ends the session everywhere.
  globalThis.addEventListener?.('storage', (event) => {
    if (event.key !== STORAGE_KEY && event.key !== null) return
    const saved = load()
    if (saved.refresh) {
      if (saved.refresh !== store.refresh || saved.token !== store.token) store.adopt(saved)
    } else if (store.isLoggedIn) {
      store.forget()
    }
  })
  store.scheduleRefresh({ atStart: true })
}
