import { describe, expect, it } from 'vitest'
import type { ModelEntry } from '../../src-main/common/model-entry'
import { DEFAULT_QUERY, mainDType, queryLibrary } from '../../src-renderer/src/features/library/library-query'

const GB = 1024 ** 3
const DAY = 24 * 3600 * 1000
const NOW = 1_800_000_000_000

function entry(name: string, patch: Partial<ModelEntry>): ModelEntry {
  return {
    path: `/models/${name}`,
    name,
    format: 'safetensors',
    size: 2 * GB,
    mtimeMs: NOW - DAY / 2,
    status: 'ok',
    problem: null,
    architecture: 'sd1',
    variant: null,
    predictionType: 'eps',
    predictionSource: null,
    layout: 'ldm',
    components: [],
    dtypes: { F16: 10, F32: 2 },
    params: 12,
    keys: 2,
    metadata: {},
    hashes: { sha256: null, autov2: null, autov1: null, tensorSha256: null, autov3: null },
    recipe: null,
    llm: null,
    notes: [],
    ...patch,
  }
}

const library = [
  entry('b-anime.safetensors', {}),
  entry('A-photo.safetensors', { size: 6 * GB, mtimeMs: NOW - 10 * DAY, hashes: { sha256: 'f'.repeat(64), autov2: 'ffffffffff', autov1: null, tensorSha256: null, autov3: null } }),
  entry('xl.safetensors', { architecture: 'sdxl', size: 7 * GB, mtimeMs: NOW - 40 * DAY }),
  entry('vpred.safetensors', { predictionType: 'v', size: 0.5 * GB, variant: 'inpainting' }),
]
const names = (rows: ModelEntry[]): string[] => rows.map((r) => r.name)

describe('library search, filters and sort', () => {
  it('sorts by name without case, and the other way round', () => {
    expect(names(queryLibrary(library, DEFAULT_QUERY, NOW))).toEqual(['A-photo.safetensors', 'b-anime.safetensors', 'vpred.safetensors', 'xl.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, descending: true }, NOW))[0]).toBe('xl.safetensors')
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, sort: 'size' }, NOW))).toEqual(['vpred.safetensors', 'b-anime.safetensors', 'A-photo.safetensors', 'xl.safetensors'])
  })

  it('needs every search word somewhere in the name, path, variant or short hash', () => {
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, text: 'ffffff' }, NOW))).toEqual(['A-photo.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, text: 'INPAINT models' }, NOW))).toEqual(['vpred.safetensors'])
    expect(queryLibrary(library, { ...DEFAULT_QUERY, text: 'anime xl' }, NOW)).toEqual([])
  })

  it('filters by architecture, prediction type, size and age', () => {
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, architecture: 'sdxl' }, NOW))).toEqual(['xl.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, prediction: 'v' }, NOW))).toEqual(['vpred.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, size: '4to8' }, NOW))).toEqual(['A-photo.safetensors', 'xl.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, size: 'lt1' }, NOW))).toEqual(['vpred.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, date: 'day' }, NOW))).toEqual(['b-anime.safetensors', 'vpred.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, date: 'month' }, NOW))).toEqual(['A-photo.safetensors', 'b-anime.safetensors', 'vpred.safetensors'])
    expect(names(queryLibrary(library, { ...DEFAULT_QUERY, date: 'older' }, NOW))).toEqual(['xl.safetensors'])
  })

  it('names the dtype that holds most parameters', () => {
    expect(mainDType(library[0]!)).toBe('F16')
    expect(mainDType(entry('empty', { dtypes: {} }))).toBeNull()
  })
})
