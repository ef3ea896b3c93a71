import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { AmalgamError } from '../engine/errors'
import { createAppServices, type AppServices } from '../services/app-services'
import type { EngineBackends } from '../services/backends'
import { forkLauncher, type MergeHostLauncher } from '../services/merge-host-launcher'
import { openConfStore, type ProblemReporter } from '../services/store'
import type { PersistedData } from '../services/validated-store'
import { startServer, type RunningServer } from './http-server'

const REPO_ROOT = resolve(import.meta.dirname, '../..')

export interface ServeAppOptions {
  /** folders added to the library at start */
  libraries: readonly string[]
  port?: number
  /** where settings, presets and history live (conf's config.json) */
  dataDir: string
  backends: EngineBackends
  report: ProblemReporter
  launcher?: MergeHostLauncher
  /** the built renderer; default: out/renderer of this checkout */
  rendererRoot?: string
  /** for tests: a fixed access token */
  token?: string
  cancelGraceMs?: number
}

export interface ServeApp {
  readonly server: RunningServer
  readonly services: AppServices
  /** the JSON file the data is kept in */
  readonly dataFile: string
  stop(): Promise<void>
}

/** `amalgam serve` without the command line: the app's services behind the local HTTP server. */
export async function startServeApp(options: ServeAppOptions): Promise<ServeApp> {
  const rendererRoot = options.rendererRoot ?? join(REPO_ROOT, 'out', 'renderer')
  if (!existsSync(join(rendererRoot, 'index.html'))) {
    throw new AmalgamError(
      'FILE_NOT_FOUND',
      `${rendererRoot}: the app is not built yet (no index.html); run \`npm run build\` in ${REPO_ROOT}, then \`npx amalgam serve\` again`,
      rendererRoot,
    )
  }
  const store = openConfStore<PersistedData>(options.dataDir, options.report)
  const services = createAppServices({
    mode: 'serve',
    version: packageVersion(),
    store,
    dataDir: options.dataDir,
    launcher: options.launcher ?? forkLauncher(),
    backends: options.backends,
    report: options.report,
    ...(options.cancelGraceMs === undefined ? {} : { cancelGraceMs: options.cancelGraceMs }),
  })
  try {
    for (const folder of options.libraries) await services.library.addFolder(resolve(folder))
    const server = await startServer({
      dispatcher: services.dispatcher,
      events: services.events,
      rendererRoot,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.token === undefined ? {} : { token: options.token }),
    })
    return {
      server,
      services,
      dataFile: store.path,
      async stop() {
        await server.close()
        await services.shutdown()
      },
    }
  } catch (err) {
    await services.shutdown()
    throw err
  }
}

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))
  const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined
  if (typeof version !== 'string') throw new AmalgamError('INTERNAL', `${join(REPO_ROOT, 'package.json')}: no version`)
  return version
}
