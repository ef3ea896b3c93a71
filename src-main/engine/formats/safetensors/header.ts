import { fileError } from '../../errors'
import { dtypeSize, isDType, KNOWN_UNSUPPORTED_DTYPES, type DType } from '../dtype'
import { findDuplicateKey } from './duplicate-keys'

/*
 * Header validation, matching huggingface/safetensors `SafeTensors::read_metadata` + `Metadata::validate`:
 * tensors sorted by data_offsets must start at 0, follow each other with no gap and no overlap, span
 * exactly numel × dtype size bytes, and end exactly where the file ends. Where the reference returns one
 * generic error we say which rule broke and for which tensor.
 */

/** huggingface/safetensors MAX_HEADER_SIZE */
export const MAX_HEADER_BYTES = 100_000_000

export const METADATA_KEY = '__metadata__'

export interface HeaderEntry {
  readonly key: string
  /** null when the file stores a dtype we know of but cannot compute on; `storedDtype` names it */
  readonly dtype: DType | null
  readonly storedDtype: string
  readonly shape: readonly number[]
  /** byte offsets relative to the start of the data section */
  readonly begin: number
  readonly end: number
}

export interface SafetensorsHeader {
  /** in data-offset order */
  readonly entries: readonly HeaderEntry[]
  readonly metadata: Readonly<Record<string, string>>
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Parses and validates the JSON header of `path`, whose data section is `dataLength` bytes long. */
export function parseSafetensorsHeader(path: string, headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  const text = decodeUtf8(path, headerBytes)
  const root = parseJson(path, text)
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw fileError('BAD_HEADER', path, `header is ${describeJson(root)}, not a JSON object`)
  }
  const duplicate = findDuplicateKey(text, root)
  if (duplicate !== null) throw fileError('BAD_HEADER', path, `header repeats the key ${JSON.stringify(duplicate)}`)
  const record = root as Record<string, unknown>
  const metadata = readMetadata(path, record[METADATA_KEY])
  const entries: HeaderEntry[] = []
  for (const key in record) {
    if (key === METADATA_KEY) continue
    const entry = readEntry(key, record[key])
    if (typeof entry === 'string') throw fileError('BAD_TENSOR', path, `tensor ${JSON.stringify(key)}: ${entry}`)
    entries.push(entry)
  }
  // sort is stable: equal offsets (zero-size tensors) keep their parse order; most files are already sorted
  if (!isSorted(entries)) entries.sort(byOffsets)
  checkCoverage(path, entries, dataLength)
  return { entries, metadata }
}

const byOffsets = (a: HeaderEntry, b: HeaderEntry): number => a.begin - b.begin || a.end - b.end

function isSorted(entries: readonly HeaderEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (byOffsets(entries[i - 1]!, entries[i]!) > 0) return false
  return true
}

function decodeUtf8(path: string, bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw fileError('BAD_HEADER', path, 'header is not valid UTF-8 (not a safetensors file?)')
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160)
    throw fileError('BAD_HEADER', path, `header is not valid JSON (${reason})`)
  }
}

function describeJson(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a JSON array'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

function readMetadata(path: string, value: unknown): Record<string, string> {
  // the reference deserialises __metadata__ as Option<HashMap<String, String>>: absent or null is "none"
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw fileError('BAD_HEADER', path, `${METADATA_KEY} is ${describeJson(value)}, not a map of strings to strings`)
  }
  const entries = Object.entries(value as Record<string, unknown>)
  for (const [k, v] of entries) {
    if (typeof v !== 'string') {
      throw fileError('BAD_HEADER', path, `${METADATA_KEY} value of ${JSON.stringify(k)} is ${describeJson(v)}, not a string`)
    }
  }
  // fromEntries defines properties, so a key named "__proto__" stays an ordinary key
  return Object.fromEntries(entries) as Record<string, string>
}

/** The entry as a HeaderEntry, or what is wrong with it (no closure per entry: headers have thousands). */
function readEntry(key: string, value: unknown): HeaderEntry | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `entry is ${describeJson(value)}, not an object`
  const { dtype: storedDtype, shape, data_offsets: offsets } = value as Record<string, unknown>
  // JSON.parse never produces undefined, so undefined means the field is absent
  if (storedDtype === undefined) return 'missing "dtype"'
  if (shape === undefined) return 'missing "shape"'
  if (offsets === undefined) return 'missing "data_offsets"'
  if (typeof storedDtype !== 'string') return `dtype is ${describeJson(storedDtype)}, not a string`
  const dtype = isDType(storedDtype) ? storedDtype : null
  const elementBytes = dtype !== null ? dtypeSize(dtype) : KNOWN_UNSUPPORTED_DTYPES[storedDtype]
  if (elementBytes === undefined) return `unknown dtype ${JSON.stringify(storedDtype)}`
  if (!isShape(shape)) return `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`
  if (!isOffsetPair(offsets) || offsets[0] > offsets[1]) {
    return `data_offsets must be two non-negative integers [begin, end] with begin <= end, got ${JSON.stringify(offsets)}`
  }
  const [begin, end] = offsets
  let numel = 1
  for (const d of shape) numel *= d
  if (!Number.isSafeInteger(numel)) return `shape ${JSON.stringify(shape)} has too many elements`
  const bytes = numel * elementBytes
  if (!Number.isInteger(bytes)) return `${numel} elements of ${storedDtype} do not fill a whole number of bytes`
  if (end - begin !== bytes) return `data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ${JSON.stringify(shape)} of ${storedDtype} needs ${bytes}`
  return { key, dtype, storedDtype, shape, begin, end }
}

function isShape(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false
  for (const d of v) if (!isNonNegativeInteger(d)) return false
  return true
}

function isOffsetPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every(isNonNegativeInteger)
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function checkCoverage(path: string, sorted: readonly HeaderEntry[], dataLength: number): void {
  let cursor = 0
  let previous: HeaderEntry | null = null
  for (const entry of sorted) {
    if (entry.begin > cursor) {
      const where = previous === null ? 'at the start of the data section' : `between ${JSON.stringify(previous.key)} and ${JSON.stringify(entry.key)}`
      throw fileError('BAD_HEADER', path, `data bytes [${cursor}, ${entry.begin}) ${where} belong to no tensor`)
    }
    if (entry.begin < cursor && previous !== null) {
      throw fileError(
        'BAD_HEADER',
        path,
        `tensors ${JSON.stringify(previous.key)} [${previous.begin}, ${previous.end}] and ${JSON.stringify(entry.key)} [${entry.begin}, ${entry.end}] overlap`,
      )
    }
    if (entry.end > dataLength) {
      throw fileError(
        'BAD_HEADER',
        path,
        `tensor ${JSON.stringify(entry.key)} ends at data offset ${entry.end}, but the data section is only ${dataLength} bytes (truncated file?)`,
      )
    }
    cursor = entry.end
    previous = entry
  }
  if (cursor < dataLength) throw fileError('BAD_HEADER', path, `the last ${dataLength - cursor} bytes of the file belong to no tensor`)
}
