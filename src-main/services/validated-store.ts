import { z } from 'zod'
import type { HistoryEntry, Preset, Settings } from '../common/ipc'
import { formatPath } from '../engine/recipe/parse'
import type { KVStore, ProblemReporter } from './store'

/** Invalid persisted data, kept (not deleted) so nothing a user made is silently lost. */
export const QuarantinedValue = z.strictObject({
  /** where it was: "presets[3]", "settings" */
  from: z.string(),
  at: z.string(),
  problem: z.string(),
  value: z.unknown(),
})
export type QuarantinedValue = z.infer<typeof QuarantinedValue>

/** Everything the app persists, one key per service. */
export type PersistedData = {
  settings: Settings
  presets: Preset[]
  history: HistoryEntry[]
  quarantine: QuarantinedValue[]
}
export type AppStore = KVStore<PersistedData>

/** Older quarantined values are dropped beyond this: the quarantine is for recovery, not an archive. */
const QUARANTINE_LIMIT = 50

type ListKey = 'presets' | 'history'

/** "presets[2].recipe.merge.method: Invalid input; ..." — the first few problems, each with where it is */
export function describeIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [...prefix, ...issue.path]
      return path.length > 0 ? `${formatPath(path)}: ${issue.message}` : issue.message
    })
    .join('; ')
}

/** Moves an invalid value aside (capped list in the same store) and reports it once. */
export function quarantine(store: AppStore, from: string, value: unknown, problem: string, report: ProblemReporter): void {
  const kept = z.array(QuarantinedValue).safeParse(store.get('quarantine'))
  const entry: QuarantinedValue = { from, at: new Date().toISOString(), problem, value }
  store.set('quarantine', [...(kept.success ? kept.data : []), entry].slice(-QUARANTINE_LIMIT))
  report(`stored ${from} is invalid (${problem}); moved it to the quarantine list in the app's data file`)
}

/**
 * Reads a list item by item: one bad preset or history entry is quarantined on its own and the rest
 * are kept; the list is written back without it so the problem is reported once.
 */
export function readValidatedList<K extends ListKey>(
  store: AppStore,
  key: K,
  item: z.ZodType<PersistedData[K][number]>,
  report: ProblemReporter,
): PersistedData[K] {
  const raw = store.get(key)
  if (raw === undefined) return [] as PersistedData[K]
  if (!Array.isArray(raw)) {
    quarantine(store, key, raw, 'expected a list', report)
    store.set(key, [] as PersistedData[K])
    return [] as PersistedData[K]
  }
  const kept: PersistedData[K][number][] = []
  raw.forEach((value: unknown, index) => {
    const parsed = item.safeParse(value)
    if (parsed.success) kept.push(parsed.data)
    else quarantine(store, `${key}[${index}]`, value, describeIssues(parsed.error), report)
  })
  const list = kept as PersistedData[K]
  if (kept.length !== raw.length) store.set(key, list)
  return list
}
