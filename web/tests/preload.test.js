import { describe, expect, it, vi } from 'vitest'
import { forgetPreloads, preload, preloaded } from '../src/api/preload'

describe('preloaded API calls', () => {
  it('gives the page the call the router started, once', async () => {
    const request = vi.fn(async (id) => ({ id }))
    preload(request, '3')
    const first = preloaded(request, '3')
    expect(request).toHaveBeenCalledTimes(1)
    expect(await first).toEqual({ id: '3' })
    // A second load (重试, a login) asks the server again.
    await preloaded(request, '3')
    expect(request).toHaveBeenCalledTimes(2)
  })

  it('makes a new call when the arguments differ', async () => {
    const request = vi.fn(async (params) => params)
    preload(request, { page: 1 })
    expect(await preloaded(request, { page: 2 })).toEqual({ page: 2 })
    expect(request).toHaveBeenCalledTimes(2)
    forgetPreloads()
  })

  it('hands a failed preload to the page as the same error', async () => {
    const request = vi.fn(() => Promise.reject(new Error('429')))
    preload(request)
    await expect(preloaded(request)).rejects.toThrow('429')
  })

  it('forgets what the last page did not take', async () => {
    const request = vi.fn(async () => 'answer')
    preload(request)
    forgetPreloads()
    await preloaded(request)
    expect(request).toHaveBeenCalledTimes(2)
  })
})
