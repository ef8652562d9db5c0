// apps/user's calls: send_sms is a POST with a JSON body (the API refuses GET and form bodies).
import { afterEach, expect, it } from 'vitest'
import { http } from '../src/api/http'
import { sendSmsCode } from '../src/api/user'

const seen = []
http.defaults.adapter = async (config) => {
  seen.push(config)
  return { status: 200, data: { code: 100, msg: '验证码已发送' }, headers: {}, config }
}

afterEach(() => {
  seen.length = 0
})

it('asks for a code with a POST and a JSON body', async () => {
  await sendSmsCode('13800000001')
  const [request] = seen
  expect(request.method).toBe('post')
  expect(request.url).toBe('user/user/send_sms/')
  expect(JSON.parse(request.data)).toEqual({ mobile: '13800000001' })
  expect(request.params).toBeUndefined()
  expect(String(request.headers['Content-Type'])).toContain('application/json')
})
