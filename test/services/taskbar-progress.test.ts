import { describe, expect, it } from 'vitest'
import type { MergeEvent } from '../../src-main/common/events'
import { taskbarProgress } from '../../src-main/services/taskbar-progress'

const progress = (bytesDone: number, bytesTotal: number, index = 0, total = 0): MergeEvent => ({ type: 'progress', phase: 'merging', index, total, key: 'k', bytesDone, bytesTotal, elapsedMs: 0, etaMs: null })

describe('taskbar progress', () => {
  it('follows bytes written, falls back to keys, and clears the bar when the merge ends', () => {
    expect(taskbarProgress(progress(250, 1000))).toBe(0.25)
    expect(taskbarProgress(progress(0, 0, 3, 4))).toBe(0.75)
    expect(taskbarProgress(progress(0, 0, 0, 0))).toBeNull()
    expect(taskbarProgress(progress(2000, 1000))).toBe(1)
    expect(taskbarProgress({ type: 'phase', phase: 'hashing' })).toBeNull()
    expect(taskbarProgress({ type: 'cancelled' })).toBe(-1)
    expect(taskbarProgress({ type: 'failed', error: { code: 'DISK_FULL', message: 'full' } })).toBe(-1)
  })
})
