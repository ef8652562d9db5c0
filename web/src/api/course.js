// Catalog: apps/course (categories, lists, detail, chapters, search, teachers).
import { http } from './http'
import { readPaging } from '../utils/paging'

export const COURSE_TYPES = {
  free: '免费课',
  actual: '实战课',
  light: '轻课',
}

export const categories = () => http.get('course/category/').then((body) => body.result)
export const courseList = (params = {}) => http.get('course/list/', { params })
// The home page's row of one course type.
export const homeRow = (courseType) => courseList({ course_type: courseType, size: 4 })
/**
 * The courseList params of a list page (/free, /actual, /light) at an address: the page and the
 * router, which starts that request while the page's code loads (api/preload.js), build them alike.
 */
export function listPageParams(courseType, query) {
  const { page, size } = readPaging(query)
  const params = { course_type: courseType, size, page }
  if (query.category) params.course_category = String(query.category)
  if (query.ordering) params.ordering = String(query.ordering)
  return params
}
export const courseDetail = (id) => http.get(`course/list/${id}/`)
export const chapters = (course) => http.get('course/chapter/', { params: { course } })
export const search = (params = {}) => http.get('course/search/', { params })
// A teacher and the courses on sale they teach.
export const teacher = (id) => http.get(`course/teacher/${id}/`)

// Learning progress (owners only): every lesson's state, the course's percentage, where to resume.
export const courseProgress = (course) =>
  http.get('course/progress/', { params: { course } }).then((body) => body.result)
// The player's report of one lesson: {position, watched, ended} in seconds.
export const reportProgress = (section, report) =>
  http.put(`course/progress/${section}/`, report).then((body) => body.result)
/**
 * The same report from a page being hidden or closed. A beacon carries no header of ours, so the
 * access token travels in the body (utils/beacon.py); a string body goes as text/plain, the one
 * type a beacon sends without a CORS preflight. False when the browser refused to queue it.
 */
export function beaconProgress(section, report, token) {
  const url = `${http.defaults.baseURL}course/progress/${section}/`
  if (!token || typeof navigator === 'undefined' || !navigator.sendBeacon) return false
  return navigator.sendBeacon(url, JSON.stringify({ ...report, token }))
}
