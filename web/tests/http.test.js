// The API layer: the envelope read in one place, the login header, one refresh on 401.
import { afterEach, describe, expect, it } from 'vitest'
import { ApiError, http, setAuthHooks, toApiError } from '../src/api/http'

// A fake transport standing in for the network: answers are queued per test.
let answers = []
const seen = []
http.defaults.adapter = async (config) => {
  seen.push(config)
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
  setAuthHooks({
    token: () => '',
    refresh: async () => false,
    expired: () => {},
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
    expect(err.display).toBe('请求过于频繁,请 42 秒后再试')
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
    expect(toApiError(new Error('boom')).display).toBe('网络错误,请检查网络后重试')
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

  it('gives up and reports expiry when the refresh fails', async () => {
    let expired = false
    setAuthHooks({ token: () => 'old', refresh: async () => false, expired: () => (expired = true) })
    answers.push({ status: 401, data: { code: 401, msg: '令牌无效' } })
    const err = await http.get('me/').catch((e) => e)
    expect(err.status).toBe(401)
    expect(expired).toBe(true)
    expect(seen).toHaveLength(1)
  })
})
