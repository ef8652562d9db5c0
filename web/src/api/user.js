// Accounts: apps/user (login, SMS codes, registration, tokens, profile).
import { http } from './http'

export const checkMobile = (mobile) => http.get('user/user/mobile/', { params: { mobile } })
export const sendSmsCode = (mobile) => http.post('user/user/send_sms/', { mobile })
export const passwordLogin = ({ username, password }) =>
  http.post('user/user/mul_login/', { username, password }, { skipAuth: true })
export const smsLogin = ({ mobile, code }) =>
  http.post('user/user/mobile_login/', { mobile, code }, { skipAuth: true })
export const register = ({ mobile, code, password }) =>
  http.post('user/user/mobile_register/', { mobile, code, password }, { skipAuth: true })
// Answers {token} and, once rotation is on, a new {refresh} too.
export const refreshToken = (refresh) =>
  http.post('user/token/refresh/', { refresh }, { skipAuth: true, retried: true })
// Blacklists the refresh token; servers without the endpoint answer 404 (the caller ignores it).
// skipAuth: the refresh token says whose session ends; a dead one must not open the login dialog.
export const logout = (refresh) => http.post('user/user/logout/', { refresh }, { skipAuth: true })
export const me = () => http.get('user/user/me/')
// loginPrompt: false for a background read a refusal should not turn into a login dialog.
export const ownedCourses = (params = {}, { loginPrompt = true } = {}) =>
  http.get('user/courses/', { params, loginPrompt })
