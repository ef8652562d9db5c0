// Reads a JWT's expiry (seconds since the epoch) without verifying it: the server verifies.
export function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4)
    const exp = JSON.parse(atob(padded)).exp
    return typeof exp === 'number' ? exp : null
  } catch {
    return null
  }
}
