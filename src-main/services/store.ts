import { existsSync, renameSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import Conf from 'conf'
import { describeError } from '../engine/errors'

/**
 * Where services persist their data. `get` returns `unknown` on purpose: whatever is on disk may have
 * been written by another version or edited by hand, so every reader validates it (validated-store.ts).
 * conf (serve mode, tests) and electron-store (the desktop app) satisfy this structurally.
 */
export interface KVStore<T> {
  get<K extends keyof T & string>(key: K): unknown
  set<K extends keyof T & string>(key: K, value: T[K]): void
}

/** In memory, for tests and throwaway sessions; values are copied in and out like a file store would. */
export class MemoryStore<T> implements KVStore<T> {
  private readonly values = new Map<string, unknown>()

  /** `initial` may hold anything, including invalid data, to test what readers do with it */
  constructor(initial: Readonly<Record<string, unknown>> = {}) {
    for (const [key, value] of Object.entries(initial)) this.values.set(key, structuredClone(value))
  }

  get<K extends keyof T & string>(key: K): unknown {
    return structuredClone(this.values.get(key))
  }

  set<K extends keyof T & string>(key: K, value: T[K]): void {
    this.values.set(key, structuredClone(value))
  }
}

export type ProblemReporter = (message: string) => void

/**
 * Opens a JSON-file store; a file that cannot be parsed (a crash mid-write by another tool, a hand
 * edit) is moved aside as `<file>.corrupt-<time>` and reported, and the app starts with defaults
 * instead of refusing to start. The moved file keeps the user's data for manual recovery.
 */
export function openJsonFileStore<S>(file: string, open: () => S, report: ProblemReporter): S {
  try {
    return open()
  } catch (err) {
    if (!existsSync(file)) throw err
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
    renameSync(file, aside)
    report(`${file}: could not be read (${describeError(err)}); moved it to ${aside} and started with defaults`)
    return open()
  }
}

/** The store `amalgam serve` uses: conf's JSON file `config.json` in `dir`. */
export function openConfStore<T extends Record<string, unknown>>(dir: string, report: ProblemReporter): KVStore<T> & { readonly path: string } {
  return openJsonFileStore(join(dir, 'config.json'), () => new Conf<T>({ projectName: 'amalgam', cwd: dir, accessPropertiesByDotNotation: false }), report)
}

/**
 * Where Electron keeps the desktop app's data (its `userData` for an app named "amalgam"), so
 * `amalgam serve` and the desktop app share settings, presets and history.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const base =
    platform === 'win32'
      ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : (env.XDG_CONFIG_HOME ?? join(home, '.config'))
  return join(base, 'amalgam')
}
