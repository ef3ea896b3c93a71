import type { ModelEntry } from '../../../../src-main/common/model-entry'

export type SortColumn = 'name' | 'architecture' | 'size' | 'date'
export type SizeBucket = 'any' | 'lt1' | '1to4' | '4to8' | 'gt8'
export type DateBucket = 'any' | 'day' | 'week' | 'month' | 'older'

export interface LibraryQuery {
  text: string
  architecture: string
  prediction: string
  size: SizeBucket
  date: DateBucket
  sort: SortColumn
  descending: boolean
}

export const DEFAULT_QUERY: LibraryQuery = { text: '', architecture: 'any', prediction: 'any', size: 'any', date: 'any', sort: 'name', descending: false }

const GB = 1024 ** 3
const DAY = 24 * 3600 * 1000

export const SIZE_BUCKETS: readonly { value: SizeBucket; label: string; test(bytes: number): boolean }[] = [
  { value: 'any', label: 'any size', test: () => true },
  { value: 'lt1', label: '< 1 GB', test: (b) => b < GB },
  { value: '1to4', label: '1–4 GB', test: (b) => b >= GB && b < 4 * GB },
  { value: '4to8', label: '4–8 GB', test: (b) => b >= 4 * GB && b < 8 * GB },
  { value: 'gt8', label: '≥ 8 GB', test: (b) => b >= 8 * GB },
]

export const DATE_BUCKETS: readonly { value: DateBucket; label: string; test(ageMs: number): boolean }[] = [
  { value: 'any', label: 'any date', test: () => true },
  { value: 'day', label: 'last 24 h', test: (a) => a < DAY },
  { value: 'week', label: 'last 7 days', test: (a) => a < 7 * DAY },
  { value: 'month', label: 'last 30 days', test: (a) => a < 30 * DAY },
  { value: 'older', label: 'older', test: (a) => a >= 30 * DAY },
]

/** Short names people use for each architecture. */
export const ARCHITECTURE_LABELS: Readonly<Record<string, string>> = {
  sd1: 'SD 1.x',
  sd2: 'SD 2.x',
  sdxl: 'SDXL',
  'sdxl-refiner': 'SDXL refiner',
  sd3: 'SD3',
  flux: 'Flux',
  llm: 'LLM',
  lora: 'LoRA',
  component: 'component',
  unknown: 'unknown',
}

export const PREDICTION_LABELS: Readonly<Record<string, string>> = { eps: 'eps', v: 'v-pred', flow: 'flow', unknown: 'unknown' }

export function architectureLabel(architecture: string): string {
  return ARCHITECTURE_LABELS[architecture] ?? architecture
}

function matchesText(entry: ModelEntry, words: readonly string[]): boolean {
  const haystack = `${entry.name} ${entry.path} ${entry.variant ?? ''} ${entry.hashes.autov2 ?? ''} ${entry.hashes.autov3 ?? ''}`.toLowerCase()
  return words.every((w) => haystack.includes(w))
}

function compare(a: ModelEntry, b: ModelEntry, column: SortColumn): number {
  switch (column) {
    case 'name':
      return a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' })
    case 'architecture':
      return architectureLabel(a.architecture).localeCompare(architectureLabel(b.architecture)) || a.name.localeCompare(b.name)
    case 'size':
      return a.size - b.size
    case 'date':
      return a.mtimeMs - b.mtimeMs
  }
}

/** The rows the table shows: filtered, then sorted (ties by name so the order is stable). */
export function queryLibrary(entries: readonly ModelEntry[], query: LibraryQuery, now: number): ModelEntry[] {
  const words = query.text.toLowerCase().split(/\s+/).filter(Boolean)
  const size = SIZE_BUCKETS.find((b) => b.value === query.size) ?? SIZE_BUCKETS[0]!
  const date = DATE_BUCKETS.find((b) => b.value === query.date) ?? DATE_BUCKETS[0]!
  const rows = entries.filter(
    (e) =>
      (query.architecture === 'any' || e.architecture === query.architecture) &&
      (query.prediction === 'any' || e.predictionType === query.prediction) &&
      size.test(e.size) &&
      date.test(now - e.mtimeMs) &&
      matchesText(e, words),
  )
  rows.sort((a, b) => {
    const order = compare(a, b, query.sort)
    return query.descending ? -order : order
  })
  return rows
}

/** The main stored dtype: the one holding most parameters ("F16", "BF16", "F8_E4M3", ...). */
export function mainDType(entry: ModelEntry): string | null {
  let best: [string, number] | null = null
  for (const [dtype, count] of Object.entries(entry.dtypes)) if (!best || count > best[1]) best = [dtype, count]
  return best ? best[0] : null
}
