// Banner links: only shop paths and http(s) pages ever reach a RouterLink or an href.
import { describe, expect, it } from 'vitest'
import { appPath, externalHref } from '../src/utils/links'

describe('banner links', () => {
  it('keeps shop paths in the app', () => {
    expect(appPath('/course/3')).toBe('/course/3')
    expect(appPath(`${window.location.origin}/free?page=2`)).toBe('/free?page=2')
    expect(externalHref('/course/3')).toBeNull()
  })

  it('lets http(s) pages of other sites be plain links', () => {
    expect(externalHref('https://example.com/a?b=1')).toBe('https://example.com/a?b=1')
    expect(externalHref('http://example.com/')).toBe('http://example.com/')
    expect(appPath('https://example.com/')).toBeNull()
  })

  it.each([
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'mailto:a@example.com',
    '',
    null,
    42,
  ])('gives no link at all for %j', (link) => {
    expect(appPath(link)).toBeNull()
    expect(externalHref(link)).toBeNull()
  })
})
