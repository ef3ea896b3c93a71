import { HistoryEntry } from '../common/ipc'
import { AmalgamError } from '../engine/errors'
import type { ProblemReporter } from './store'
import { readValidatedList, type AppStore } from './validated-store'

/** Past merges beyond this are dropped, oldest first: each entry carries a full recipe. */
export const HISTORY_LIMIT = 500

export interface HistoryService {
  /** newest first */
  list(): HistoryEntry[]
  /** called by the merge jobs service when a job ends (done, failed or cancelled) */
  append(entry: HistoryEntry): void
  delete(id: string): void
}

export function createHistory(store: AppStore, report: ProblemReporter): HistoryService {
  const read = (): HistoryEntry[] => readValidatedList(store, 'history', HistoryEntry, report)
  return {
    list: () => read().reverse(),
    append(entry) {
      store.set('history', [...read(), HistoryEntry.parse(entry)].slice(-HISTORY_LIMIT))
    },
    delete(id) {
      const entries = read()
      const index = entries.findIndex((e) => e.id === id)
      if (index < 0) throw new AmalgamError('BAD_ARGUMENT', `history entry "${id}" does not exist (it may have been deleted)`)
      entries.splice(index, 1)
      store.set('history', entries)
    },
  }
}
