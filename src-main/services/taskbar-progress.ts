import type { MergeEvent } from '../common/events'

/**
 * The taskbar / dock progress a merge event calls for (Electron's setProgressBar): a fraction in
 * [0, 1], -1 to remove the bar when the merge ends, or null to leave it as it is.
 */
export function taskbarProgress(event: MergeEvent): number | null {
  switch (event.type) {
    case 'progress':
      if (event.bytesTotal > 0) return Math.min(1, event.bytesDone / event.bytesTotal)
      return event.total > 0 ? Math.min(1, event.index / event.total) : null
    case 'done':
    case 'failed':
    case 'cancelled':
      return -1
    default:
      return null
  }
}
