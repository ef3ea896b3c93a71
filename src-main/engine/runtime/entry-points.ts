import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Code that runs in another thread or process (the engine's worker threads, the merge host process)
 * is started from a file. From source (CLI, tests, `amalgam serve`) that file is TypeScript loaded
 * through tsx; in the Electron build it is the bundle electron-vite emits next to the caller's.
 */
export type EntryName = 'engine-worker' | 'merge-host'

const SOURCE_FILES: Readonly<Record<EntryName, string>> = {
  'engine-worker': '../worker-entry.ts',
  'merge-host': '../../merge-host/main.ts',
}

export interface EntryPoint {
  readonly filename: string
  readonly execArgv: readonly string[]
}

export function entryPoint(name: EntryName): EntryPoint {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    return { filename: join(dirname(here), SOURCE_FILES[name]), execArgv: ['--import', name === 'engine-worker' ? tsxThreadRegistration() : tsxLoaderUrl()] }
  }
  return { filename: join(dirname(here), `${name}.js`), execArgv: [] }
}

function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
}

/**
 * tsx's loader registers its ESM hooks on a process's main thread only, so a worker thread started
 * from source registers them itself, from a tiny inline module, before its entry file is imported.
 */
function tsxThreadRegistration(): string {
  const api = import.meta.resolve('tsx/esm/api')
  return `data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(api)}; register()`)}`
}
