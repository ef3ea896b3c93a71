import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { BlockPreset, MergePreset, Preset, type PresetDraft as PresetDraftSchema } from '../common/ipc'
import { PRESETS_FORMAT, PRESETS_VERSION } from '../common/presets-file'
import { AmalgamError } from '../engine/errors'
import type { ProblemReporter } from './store'
import { describeIssues, readValidatedList, type AppStore } from './validated-store'

export type PresetDraft = z.output<typeof PresetDraftSchema>

export interface PresetsService {
  /** merge presets first, then block presets; each by name */
  list(): Preset[]
  /** a draft without id is new; with the id of an existing preset it replaces it */
  save(draft: PresetDraft): Preset
  rename(id: string, name: string): Preset
  delete(id: string): void
  /**
   * Adds the presets in a JSON text: one preset, a list of presets, or an export file
   * (`{format: "amalgam.presets", version: 1, presets}`). All or nothing; imported presets get new
   * ids so they never overwrite a preset already here. Returns the added presets.
   */
  import(json: string): Preset[]
}

/** A preset as it may appear in a file: id and timestamp are optional (hand-written files) and replaced on import. */
const ImportedPreset = z.discriminatedUnion('kind', [
  MergePreset.extend({ id: z.string().optional(), updatedAt: z.string().optional() }),
  BlockPreset.extend({ id: z.string().optional(), updatedAt: z.string().optional() }),
])

const ImportedFile = z.strictObject({
  format: z.literal(PRESETS_FORMAT),
  version: z.number(),
  presets: z.array(z.unknown()),
})

const SOURCE = 'presets file'

export function createPresets(store: AppStore, report: ProblemReporter, now: () => Date = () => new Date()): PresetsService {
  const read = (): Preset[] => readValidatedList(store, 'presets', Preset, report)
  const stamp = (): string => now().toISOString()

  function find(presets: readonly Preset[], id: string): number {
    const index = presets.findIndex((p) => p.id === id)
    if (index < 0) throw new AmalgamError('BAD_ARGUMENT', `preset "${id}" does not exist (it may have been deleted)`)
    return index
  }

  return {
    list() {
      return read().sort((x, y) => (x.kind === y.kind ? x.name.localeCompare(y.name) : x.kind === 'merge' ? -1 : 1))
    },
    save(draft) {
      const presets = read()
      const preset = Preset.parse({ ...draft, id: draft.id ?? randomUUID(), updatedAt: stamp() })
      if (draft.id === undefined) presets.push(preset)
      else presets[find(presets, draft.id)] = preset
      store.set('presets', presets)
      return preset
    },
    rename(id, name) {
      const presets = read()
      const index = find(presets, id)
      const renamed: Preset = { ...presets[index]!, name, updatedAt: stamp() }
      presets[index] = renamed
      store.set('presets', presets)
      return renamed
    },
    delete(id) {
      const presets = read()
      presets.splice(find(presets, id), 1)
      store.set('presets', presets)
    },
    import(json) {
      const added = parsePresetsText(json).map((p) => Preset.parse({ ...p, id: randomUUID(), updatedAt: stamp() }))
      store.set('presets', [...read(), ...added])
      return added
    },
  }
}

type ImportedPreset = z.output<typeof ImportedPreset>

function parsePresetsText(json: string): ImportedPreset[] {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (err) {
    throw new AmalgamError('BAD_ARGUMENT', `${SOURCE}: not valid JSON (${(err as Error).message})`)
  }
  if (Array.isArray(value)) return value.map((item, i) => parseItem(item, [i]))
  if (typeof value === 'object' && value !== null && 'format' in value) {
    const file = ImportedFile.safeParse(value)
    if (!file.success) {
      throw new AmalgamError('BAD_ARGUMENT', `${SOURCE}: not an Amalgam presets file (${describeIssues(file.error)})`)
    }
    if (file.data.version !== PRESETS_VERSION) {
      throw new AmalgamError('BAD_ARGUMENT', `${SOURCE}: version ${file.data.version} is not supported by this Amalgam (it reads version ${PRESETS_VERSION})`)
    }
    return file.data.presets.map((item, i) => parseItem(item, ['presets', i]))
  }
  return [parseItem(value, [])]
}

function parseItem(value: unknown, where: readonly PropertyKey[]): ImportedPreset {
  const parsed = ImportedPreset.safeParse(value)
  if (!parsed.success) throw new AmalgamError('BAD_ARGUMENT', `${SOURCE}: ${describeIssues(parsed.error, where)}`)
  return parsed.data
}
