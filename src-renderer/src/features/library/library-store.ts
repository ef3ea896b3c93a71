import type { z } from 'zod'
import { create } from 'zustand'
import type { LibraryProgress, LibrarySnapshot } from '../../../../src-main/common/ipc'
import { call, type CallError } from '../../app/call'
import { DEFAULT_QUERY, type LibraryQuery } from './library-query'

type Progress = z.infer<typeof LibraryProgress>

interface LibraryState {
  snapshot: LibrarySnapshot | null
  /** when the snapshot arrived: the reference time of the date filters */
  snapshotAt: number
  loadError: CallError | null
  /** the latest scan or hash progress; null when none is running */
  progress: Progress | null
  query: LibraryQuery
  /** the model whose details drawer is open */
  detailsPath: string | null
  refresh(): Promise<void>
  setSnapshot(snapshot: LibrarySnapshot): void
  setProgress(progress: Progress): void
  setQuery(patch: Partial<LibraryQuery>): void
  showDetails(path: string | null): void
}

/** Bumped by every snapshot request and arrival: an answer overtaken by a newer one is dropped. */
let generation = 0

/** The library as main reports it, plus what the user is looking for in it. */
export const useLibraryStore = create<LibraryState>()((set) => ({
  snapshot: null,
  snapshotAt: 0,
  loadError: null,
  progress: null,
  query: DEFAULT_QUERY,
  detailsPath: null,
  async refresh() {
    const request = ++generation
    const result = await call('library.list', {})
    if (request !== generation) return
    if (result.ok) set({ snapshot: result.value, snapshotAt: Date.now(), loadError: null })
    else set({ loadError: result.error })
  },
  setSnapshot(snapshot) {
    generation++
    set({ snapshot, snapshotAt: Date.now(), loadError: null })
  },
  setProgress: (progress) => set({ progress: progress.done >= progress.total ? null : progress }),
  setQuery: (patch) => set((s) => ({ query: { ...s.query, ...patch } })),
  showDetails: (path) => set({ detailsPath: path }),
}))

/** Library entries by path, for labelling builder slots and reading an input's architecture. */
export function useEntryByPath(path: string | null) {
  return useLibraryStore((s) => (path === null ? undefined : s.snapshot?.entries.find((e) => e.path === path)))
}
