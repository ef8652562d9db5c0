// The player's progress reports: watched seconds from play steps (seeks add nothing), a report
// every ~15 s watched, on pause, on end, and a beacon when the page goes away.
import { describe, expect, it } from 'vitest'
import {
  REPORT_EVERY,
  createLessonTracker,
  inProgress,
  learnPath,
  lessonSeconds,
  watchedPercent,
} from '../src/composables/useLessonProgress'

function tracker(watched = 0) {
  const reports = []
  const beacons = []
  const t = createLessonTracker({
    watched,
    report: (body) => reports.push(body),
    beacon: (body) => beacons.push(body),
  })
  return { t, reports, beacons }
}

// Plays from `from` to `to` in 0.25 s timeupdate steps.
function play(t, from, to) {
  for (let at = from; at <= to + 1e-9; at += 0.25) t.tick(at, { playing: true })
}

describe('lesson progress tracker', () => {
  it('counts the seconds played, not the position, and a seek adds nothing', () => {
    const { t } = tracker()
    play(t, 0, 4)
    t.seeked(200)
    t.tick(200, { playing: true })
    play(t, 200, 203)
    expect(t.state()).toEqual({ position: 203, watched: 7 })
  })

  it('ignores a jump between two timeupdates (a seek the player reported late)', () => {
    const { t } = tracker()
    play(t, 0, 2)
    t.tick(90, { playing: true })
    expect(t.state().watched).toBe(2)
  })

  it('counts nothing while paused', () => {
    const { t } = tracker()
    t.tick(0, { playing: false })
    t.tick(1, { playing: false })
    expect(t.state().watched).toBe(0)
  })

  it('adds this visit to what the server already holds', () => {
    const { t } = tracker(100)
    play(t, 50, 53)
    expect(t.state()).toEqual({ position: 53, watched: 103 })
  })

  it('reports every ~15 s watched while playing', () => {
    const { t, reports } = tracker()
    play(t, 0, REPORT_EVERY - 1)
    expect(reports).toEqual([])
    play(t, REPORT_EVERY - 0.75, REPORT_EVERY * 2 + 0.5)
    expect(reports.map((r) => r.watched)).toEqual([15, 30])
  })

  it('reports on pause once, and on end with ended', () => {
    const { t, reports } = tracker()
    play(t, 0, 5)
    t.pause(5)
    t.pause(5)
    expect(reports).toEqual([{ position: 5, watched: 5 }])
    play(t, 5, 6)
    t.ended(6)
    expect(reports.at(-1)).toEqual({ position: 6, watched: 6, ended: true })
  })

  it('sends a beacon when the page goes away with something unreported', () => {
    const { t, reports, beacons } = tracker()
    play(t, 0, 3)
    t.leave()
    t.leave()
    expect(beacons).toEqual([{ position: 3, watched: 3 }])
    expect(reports).toEqual([])
  })

  it('takes the player\'s second at the moment the page goes away', () => {
    const { t, beacons } = tracker()
    play(t, 0, 1.75)
    t.leave(2.1)
    expect(beacons).toEqual([{ position: 2, watched: 1 }])
  })

  it('sends a failed report again with the next one', async () => {
    const sent = []
    let fail = true
    const t = createLessonTracker({
      report: (body) => {
        sent.push(body)
        return fail ? Promise.reject(new Error('offline')) : Promise.resolve()
      },
      beacon: () => true,
    })
    play(t, 0, 2)
    t.pause(2)
    await Promise.resolve()
    await Promise.resolve()
    fail = false
    t.pause(2)
    expect(sent).toEqual([
      { position: 2, watched: 2 },
      { position: 2, watched: 2 },
    ])
  })
})

describe('lesson lengths', () => {
  it('reads m:ss and h:mm:ss', () => {
    expect(lessonSeconds('6:10')).toBe(370)
    expect(lessonSeconds('1:02:03')).toBe(3723)
    expect(lessonSeconds('')).toBeNull()
    expect(lessonSeconds('abc')).toBeNull()
    expect(lessonSeconds('0:00')).toBeNull()
  })

  it('gives a watched share capped at 100', () => {
    expect(watchedPercent(185, '6:10')).toBe(50)
    expect(watchedPercent(999, '6:10')).toBe(100)
    expect(watchedPercent(3, '8:30')).toBe(1)
    expect(watchedPercent(10, '')).toBeNull()
  })
})

describe('courses in progress', () => {
  it('links 继续学习 to the lesson to resume', () => {
    expect(learnPath({ id: 3, resume_section: { section: 9, name: 'x', position: 40 } })).toBe(
      '/learn/3?section=9',
    )
    expect(learnPath({ id: 3, resume_section: null })).toBe('/learn/3')
  })

  it('calls a course in progress once started and until finished', () => {
    const at = (progress, position) => ({ progress, resume_section: { section: 1, position } })
    expect(inProgress(at(0, 0))).toBe(false)
    expect(inProgress(at(0, 12))).toBe(true)
    expect(inProgress(at(40, 0))).toBe(true)
    expect(inProgress(at(100, 0))).toBe(false)
    expect(inProgress({ progress: 0, resume_section: null })).toBe(false)
  })
})
