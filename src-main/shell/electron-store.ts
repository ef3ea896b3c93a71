import { join } from 'node:path'
import Store from 'electron-store'
import { openJsonFileStore, type ProblemReporter } from '../services/store'
import type { AppStore, PersistedData } from '../services/validated-store'

/** The desktop app's data file: `<userData>/config.json`, the same file `amalgam serve` uses by default. */
export function openElectronStore(dataDir: string, report: ProblemReporter): AppStore {
  return openJsonFileStore(join(dataDir, 'config.json'), () => new Store<PersistedData>({ cwd: dataDir, accessPropertiesByDotNotation: false }), report)
}
