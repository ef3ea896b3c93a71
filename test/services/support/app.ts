import { createAppServices, type AppServices } from '../../../src-main/services/app-services'
import type { MergeHostLauncher } from '../../../src-main/services/merge-host-launcher'
import { MemoryStore } from '../../../src-main/services/store'
import type { PersistedData } from '../../../src-main/services/validated-store'
import { silentLauncher } from './hosts'
import { recordingBackends, recordingDesktop } from './recording-backends'

export interface TestApp {
  readonly services: AppServices
  readonly recorded: ReturnType<typeof recordingBackends>
  readonly desktop: ReturnType<typeof recordingDesktop>
  readonly problems: string[]
  readonly dataDir: string
}

/** The real services on a MemoryStore with recording backends (and a recording desktop in electron mode). */
export function testApp(dataDir: string, options: { mode?: 'electron' | 'serve'; launcher?: MergeHostLauncher; store?: MemoryStore<PersistedData>; home?: string } = {}): TestApp {
  const recorded = recordingBackends()
  const desktop = recordingDesktop({ open: ['/picked/one'], save: '/picked/out.safetensors' })
  const problems: string[] = []
  const common = {
    version: '9.9.9',
    store: options.store ?? new MemoryStore<PersistedData>(),
    dataDir,
    launcher: options.launcher ?? silentLauncher().launcher,
    backends: recorded.backends,
    report: (message: string) => void problems.push(message),
    // the silent host is only ever killed: don't wait the real 5 s for it on shutdown
    cancelGraceMs: 50,
    ...(options.home === undefined ? {} : { home: options.home }),
  }
  const services = options.mode === 'serve' ? createAppServices({ ...common, mode: 'serve' }) : createAppServices({ ...common, mode: 'electron', desktop: desktop.desktop })
  return { services, recorded, desktop, problems, dataDir }
}
