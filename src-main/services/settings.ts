import { isAbsolute, resolve } from 'node:path'
import { Settings } from '../common/ipc'
import { AmalgamError } from '../engine/errors'
import type { ProblemReporter } from './store'
import { describeIssues, quarantine, type AppStore } from './validated-store'

/**
 * Defaults: no library folders yet (the first-run screen asks for one or offers the demo models);
 * `outputFolder: null` means "next to input a": the builder proposes `<folder of a>/<name>.safetensors`,
 * which is where users of A1111/ComfyUI keep merges and needs no extra permission.
 */
export const DEFAULT_SETTINGS: Settings = {
  libraryFolders: [],
  outputFolder: null,
  defaultOutputDType: 'auto',
  embedRecipe: true,
}

type SettingsListener = (settings: Settings, previous: Settings) => void

export interface SettingsService {
  get(): Settings
  /** changes the given fields; paths must be absolute (they are normalised and library folders de-duplicated) */
  update(patch: Partial<Settings>): Settings
  onChange(listener: SettingsListener): () => void
}

const FIELDS = Object.keys(Settings.shape) as (keyof Settings)[]

export function createSettings(store: AppStore, report: ProblemReporter): SettingsService {
  const listeners = new Set<SettingsListener>()

  /** field by field: one unreadable field (say, a dtype a newer version added) does not cost the library folders */
  function read(): Settings {
    const raw = store.get('settings')
    if (raw === undefined) return { ...DEFAULT_SETTINGS }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      quarantine(store, 'settings', raw, 'expected an object', report)
      store.set('settings', DEFAULT_SETTINGS)
      return { ...DEFAULT_SETTINGS }
    }
    const stored = raw as Record<string, unknown>
    const settings: Record<string, unknown> = {}
    let repaired = false
    for (const field of FIELDS) {
      const value = stored[field]
      const parsed = Settings.shape[field].safeParse(value)
      if (value !== undefined && parsed.success) {
        settings[field] = parsed.data
        continue
      }
      if (value !== undefined && !parsed.success) {
        quarantine(store, `settings.${field}`, value, describeIssues(parsed.error), report)
        repaired = true
      }
      settings[field] = DEFAULT_SETTINGS[field]
    }
    const result = Settings.parse(settings)
    if (repaired) store.set('settings', result)
    return result
  }

  return {
    get: read,
    update(patch) {
      const previous = read()
      const next: Settings = { ...previous, ...normalise(patch) }
      store.set('settings', next)
      for (const listener of listeners) listener(next, previous)
      return next
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

function normalise(patch: Partial<Settings>): Partial<Settings> {
  const out: Partial<Settings> = { ...patch }
  if (patch.libraryFolders) {
    out.libraryFolders = [...new Set(patch.libraryFolders.map((folder, i) => absolute(folder, `settings.libraryFolders[${i}]`)))]
  }
  if (patch.outputFolder != null) out.outputFolder = absolute(patch.outputFolder, 'settings.outputFolder')
  return out
}

function absolute(path: string, field: string): string {
  if (!isAbsolute(path)) throw new AmalgamError('BAD_ARGUMENT', `${field}: "${path}" is not an absolute path`)
  return resolve(path)
}
