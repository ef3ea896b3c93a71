import { create } from 'zustand'
import type { HistoryEntry } from '../../../../src-main/common/ipc'
import { call, type CallError } from '../../app/call'

interface HistoryState {
  entries: HistoryEntry[]
  loaded: boolean
  error: CallError | null
  refresh(): Promise<void>
}

/** Past merges, newest first; refreshed when a merge ends. */
export const useHistoryStore = create<HistoryState>()((set) => ({
  entries: [],
  loaded: false,
  error: null,
  async refresh() {
    const result = await call('history.list', {})
    if (result.ok) set({ entries: result.value, loaded: true, error: null })
    else set({ error: result.error })
  },
}))
