// Catalog: apps/course (categories, lists, detail, chapters, search, teachers).
import { http } from './http'

export const COURSE_TYPES = {
  free: '免费课',
  actual: '实战课',
  light: '轻课',
}

export const categories = () => http.get('course/category/').then((body) => body.result)
export const courseList = (params = {}) => http.get('course/list/', { params })
export const courseDetail = (id) => http.get(`course/list/${id}/`)
export const chapters = (course) => http.get('course/chapter/', { params: { course } })
export const search = (params = {}) => http.get('course/search/', { params })
// A teacher and the courses on sale they teach.
export const teacher = (id) => http.get(`course/teacher/${id}/`)
