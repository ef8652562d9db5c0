// Client-side checks that save a round trip; the server checks everything again.
// [0-9], not \d, to match the server's MOBILE_REGEX exactly.
export const MOBILE_RE = /^1[3-9][0-9]{9}$/
export const isMobile = (value) => MOBILE_RE.test(String(value || '').trim())
