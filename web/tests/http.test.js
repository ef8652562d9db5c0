// The API layer: the envelope read in one place, the login header, one refresh on 401.
import { afterEach, describe, expect, it } from 'vitest'
import { ApiError, http, setAuthHooks, toApiError } from '../src/api/http'

// A fake transport standing in for the network: answers are queued per test.
let answers = []
const seen = []
const sentAuth = [] // the Authorization header of each request as it went out
http.defaults.adapter = async (config) => {
  seen.push(config)
  sentAuth.push(config.headers.Authorization)
  const { status, data } = answers.shift()
  const response = { status, data, headers: {}, config, statusText: String(status) }
  if (status >= 400) {
    const error = new Error(`status ${status}`)
    error.response = response
    error.config = config
    throw error
  }
  return response
}

afterEach(() => {
  answers = []
  seen.length = 0
  sentAuth.length = 0
  setAuthHooks({
    token: () => '',
    refresh: async () => false,
    expired: () => {},
    loginNeeded: () => {},
    ready: () => Promise.resolve(),
  })
})

describe('http', () => {
  it('answers the body of a successful envelope', async () => {
    answers.push({ status: 200, data: { code: 100, msg: '成功', result: [1] } })
    await expect(http.get('x/')).resolves.toEqual({ code: 100, msg: '成功', result: [1] })
  })

  it('turns an error envelope into an ApiError with its fields and wait', async () => {
    answers.push({ status: 429, data: { code: 429, msg: '请求超过了限速', wait: 41.2 } })
    const err = await http.get('x/').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(429)
    expect(err.display).toBe('请求过于频繁，请 42 秒后再试')
  })

  it('keeps validation errors by field', async () => {
    answers.push({
      status: 400,
      data: { code: 400, msg: 'password: 密码太短', errors: { password: ['密码太短'] } },
    })
    const err = await http.post('x/', {}).catch((e) => e)
    expect(err.display).toBe('password: 密码太短')
    expect(err.fieldErrors()).toEqual({ password: '密码太短' })
  })

  it('says the network failed when there is no answer', () => {
    expect(toApiError(new Error('boom')).display).toBe('网络错误，请检查网络后重试')
  })

  it('sends the token as "jwt <token>" and replays a 401 once after refreshing', async () => {
    let token = 'old'
    setAuthHooks({
      token: () => token,
      refresh: async () => {
        token = 'new'
        return true
      },
    })
    answers.push({ status: 401, data: { code: 401, msg: '令牌无效' } })
    answers.push({ status: 200, data: { code: 100, msg: 'ok' } })
    await expect(http.get('me/')).resolves.toEqual({ code: 100, msg: 'ok' })
    expect(seen.map((c) => c.headers.Authorization)).toEqual(['jwt old', 'jwt new'])
  })

  it('waits for a refresh in flight instead of sending the token being replaced', async () => {
    let token = 'old'
    let finish
    const refreshing = new Promise((resolve) => (finish = resolve)).then(() => (token = 'new'))
    setAuthHooks({ token: () => token, ready: () => refreshing })
    answers.push({ status: 200, data: { code: 100, msg: 'ok' } })
    const request = http.get('me/')
    finish()
    await request
    expect(seen.map((c) => c.headers.Authorization)).toEqual(['jwt new'])
  })

  it('drops a dead session and replays the request without it (public pages still load)', async () => {
    let token = 'garbage'
    let expired = 0
    let loginNeeded = 0
    setAuthHooks({
      token: () => token,
      refresh: async () => false,
      expired: () => {
        expired += 1
        token = ''
      },
      loginNeeded: () => (loginNeeded += 1),
    })
    answers.push({ status: 401, data: { code: 401, msg: '令牌无效' } })
    answers.push({ status: 200, data: { count: 3, results: [] } })
    await expect(http.get('course/list/')).resolves.toEqual({ count: 3, results: [] })
    expect(sentAuth).toEqual(['jwt garbage', undefined])
    expect(expired).toBe(1)
    expect(loginNeeded).toBe(0)
  })

  it('asks for a login when a request needs an account and none is left', async () => {
    let loginNeeded = 0
    setAuthHooks({
      token: () => 'old',
      refresh: async () => false,
      loginNeeded: () => (loginNeeded += 1),
    })
    answers.push({ status: 401, data: { code: 401, msg: '令牌无效' } })
    answers.push({ status: 401, data: { code: 401, msg: '身份认证信息未提供。' } })
    const err = await http.get('order/').catch((e) => e)
    expect(err.status).toBe(401)
    expect(seen).toHaveLength(2)
    expect(loginNeeded).toBe(1)
  })

  it('leaves the login dialog shut for a background read the page does without', async () => {
    let loginNeeded = 0
    setAuthHooks({
      token: () => 'old',
      refresh: async () => false,
      loginNeeded: () => (loginNeeded += 1),
    })
    answers.push({ status: 401, data: { code: 401, msg: '令牌无效' } })
    answers.push({ status: 401, data: { code: 401, msg: '身份认证信息未提供。' } })
    const err = await http.get('user/courses/', { loginPrompt: false }).catch((e) => e)
    expect(err.status).toBe(401)
    expect(loginNeeded).toBe(0)
  })
})
