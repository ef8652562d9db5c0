// The one axios instance every API module uses: base URL, the login header, one silent token
// refresh on 401, and the envelope read here so pages only see data or an ApiError.
import axios from 'axios'

export const SUCCESS = 100
export const NOT_YET = 101

/** An error answer from the API (or no answer at all), with the envelope's fields. */
export class ApiError extends Error {
  constructor({ status = 0, code = 0, msg = '', errors = null, wait = null } = {}) {
    super(msg || '网络错误，请稍后再试')
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.errors = errors
    this.wait = wait
  }

  /** What to show a person: the message, and how long to wait when throttled. */
  get display() {
    if (this.status === 429 && this.wait != null) {
      return `请求过于频繁，请 ${Math.ceil(this.wait)} 秒后再试`
    }
    return this.message
  }

  /** First message per field, for the form that sent them. */
  fieldErrors() {
    const out = {}
    for (const [field, messages] of Object.entries(this.errors || {})) {
      out[field] = Array.isArray(messages) ? String(messages[0]) : String(messages)
    }
    return out
  }
}

export function toApiError(error) {
  if (error instanceof ApiError) return error
  const response = error && error.response
  if (!response) return new ApiError({ msg: '网络错误，请检查网络后重试' })
  const body = response.data && typeof response.data === 'object' ? response.data : {}
  return new ApiError({
    status: response.status,
    code: body.code ?? response.status,
    msg: body.msg || `请求失败（${response.status}）`,
    errors: body.errors || null,
    wait: body.wait ?? null,
  })
}

// The user store plugs in here (stores/user.js installAuth) so this module needs no store.
const auth = {
  token: () => '',
  refresh: async () => false,
  // The session is over (the refresh was refused): drop it and say so.
  expired: () => {},
  // A request that needs an account was refused with no session to send: ask for a login.
  loginNeeded: () => {},
  // Resolves once a token refresh in flight has finished (requests wait rather than send a
  // token that is being replaced).
  ready: () => Promise.resolve(),
}

export function setAuthHooks(hooks) {
  Object.assign(auth, hooks)
}

export const http = axios.create({ baseURL: '/api/v1/', timeout: 15000 })

http.interceptors.request.use(async (config) => {
  if (config.skipAuth) return config
  await auth.ready()
  const token = auth.token()
  if (token && !config.anonymousRetry) config.headers.Authorization = `jwt ${token}`
  return config
})

http.interceptors.response.use(
  (response) => response.data,
  async (error) => {
    const { response, config } = error
    const refused = response && response.status === 401 && config && !config.skipAuth
    // An access token that expired while the tab slept: refresh once and replay the request.
    if (refused && !config.retried && config.headers.Authorization) {
      config.retried = true
      // Another request already got a new token while this one was out: just send it again.
      if (auth.token() && config.headers.Authorization !== `jwt ${auth.token()}`) {
        return http(config)
      }
      if (auth.token() && (await auth.refresh())) return http(config)
      // The session is over (a garbage, expired or revoked token in storage): forget it and
      // send the request again without it, so public pages load as they do for any visitor.
      auth.expired()
      delete config.headers.Authorization
      config.anonymousRetry = true
      return http(config)
    }
    // loginPrompt: false marks a request the page does without (the home page's 继续学习 row,
    // the coupons a course page counts): a refusal there must not open the login dialog.
    if (refused && config.loginPrompt !== false) auth.loginNeeded()
    throw toApiError(error)
  },
)
