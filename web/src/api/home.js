// Home page: apps/home (banners).
import { http } from './http'

export const banners = () => http.get('home/banner/').then((body) => body.result || [])
