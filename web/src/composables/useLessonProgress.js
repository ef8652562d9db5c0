// How far a learner got in the lesson playing: the position, and the seconds actually watched
// (counted from the player's timeupdate steps while it plays, so a seek adds nothing). Reported
// every REPORT_EVERY seconds watched, on pause and on end; a beacon when the page is hidden.

export const REPORT_EVERY = 15
// timeupdate fires every 15-250 ms while playing: a longer step between two is a seek or a
// stall the learner did not watch.
export const MAX_STEP = 1.5

/** Seconds in a lesson's "m:ss" or "h:mm:ss" duration; null when it says nothing usable. */
export function lessonSeconds(duration) {
  const parts = String(duration || '').trim().split(':')
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) return null
  const seconds = parts.reduce((total, part) => total * 60 + Number(part), 0)
  return seconds > 0 ? seconds : null
}

/** A lesson's watched share in percent (1-100 once started: a few seconds never read 0 %), or
 * null when its length is unknown. */
export function watchedPercent(watched, duration) {
  const length = lessonSeconds(duration)
  if (!length) return null
  return Math.min(100, Math.ceil((watched * 100) / length))
}

/**
 * One lesson's tracker. `watched` is what the server already holds for it: reports carry that
 * plus what was watched since the lesson was opened here, since the server keeps the larger
 * figure (a report of this visit alone would never add up across visits). `report(body)` sends
 * a report and may return a promise; `beacon(body)` queues one as the page goes away.
 */
export function createLessonTracker({ watched = 0, report, beacon }) {
  let fresh = 0
  let last = null
  let position = 0
  let sent = { position: null, watched }

  const now = () => ({ position: Math.floor(position), watched: Math.floor(watched + fresh) })
  const changed = () => {
    const state = now()
    return state.position !== sent.position || state.watched !== sent.watched
  }
  function send(extra = {}, via = report) {
    const body = { ...now(), ...extra }
    const before = sent
    sent = body
    try {
      const result = via(body)
      if (result && typeof result.catch === 'function') {
        // A report that failed is sent again with the next one: nothing is lost meanwhile.
        result.catch(() => (sent = before))
      }
    } catch {
      sent = before
    }
  }

  return {
    /** A timeupdate: count the step since the previous one while playing, report every ~15 s. */
    tick(currentTime, { playing, rate = 1 } = {}) {
      if (playing && last !== null) {
        const step = currentTime - last
        if (step > 0 && step <= MAX_STEP * Math.max(rate, 1)) fresh += step
      }
      last = currentTime
      position = currentTime
      if (playing && now().watched - sent.watched >= REPORT_EVERY) send()
    },
    /** A seek (or the start position set): the next step counts from here. */
    seeked(currentTime) {
      last = currentTime
      position = currentTime
    },
    pause(currentTime) {
      position = currentTime
      if (changed()) send()
    },
    ended(currentTime) {
      position = currentTime
      send({ ended: true })
    },
    /** The page is hidden, closed or left: a beacon, which outlives the page. */
    leave(currentTime = position) {
      position = currentTime
      if (changed()) send({}, beacon)
    },
    state: now,
  }
}

/** The study page of an owned course at its lesson to resume (`resume_section` of user/courses). */
export function learnPath(course) {
  const resume = course.resume_section
  return resume ? `/learn/${course.id}?section=${resume.section}` : `/learn/${course.id}`
}

/** Started and not finished: the home page's "continue" row. */
export function inProgress(course) {
  const resume = course.resume_section
  return course.progress < 100 && (course.progress > 0 || Boolean(resume && resume.position > 0))
}
