import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseServeArgs } from '../../src-main/cli/commands/serve'
import { UsageError } from '../../src-main/cli/command'
import { TOKEN_HEADER } from '../../src-main/common/serve-protocol'
import { startServeApp, type ServeApp } from '../../src-main/server/serve-app'
import { defaultDataDir } from '../../src-main/services/store'
import { amalgamErrorOf, useTempDir } from '../formats/support'
import { silentLauncher } from '../services/support/hosts'
import { recordingBackends } from '../services/support/recording-backends'
import { fakeRenderer, send } from './support'

const tempDir = useTempDir()
const apps: ServeApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop()
})

async function start(dir: string, libraries: string[] = []) {
  const recorded = recordingBackends()
  const app = await startServeApp({ libraries, dataDir: join(dir, 'data'), backends: recorded.backends, report: () => undefined, launcher: silentLauncher().launcher, rendererRoot: fakeRenderer(dir), cancelGraceMs: 50 })
  apps.push(app)
  const invoke = async (channel: string, body: unknown) =>
    JSON.parse((await send(app.server.port, { method: 'POST', path: `/api/invoke/${channel}`, headers: { 'content-type': 'application/json', [TOKEN_HEADER]: app.server.token }, body: JSON.stringify(body) })).body)
  return { app, recorded, invoke }
}

describe('amalgam serve', () => {
  it('adds --library folders at start and keeps its data in --data', async () => {
    const dir = tempDir()
    const models = join(dir, 'models')
    mkdirSync(models)
    const { app, invoke, recorded } = await start(dir, [models])
    expect(recorded.library.folders()).toEqual([models])
    expect(await invoke('library.list', {})).toMatchObject({ ok: true, value: { folders: [models] } })
    expect(app.dataFile).toBe(join(dir, 'data', 'config.json'))
    expect(existsSync(app.dataFile)).toBe(true)
    expect(await invoke('app.status', {})).toMatchObject({ ok: true, value: { mode: 'serve', version: expect.stringMatching(/^\d+\.\d+\.\d+/) } })
  })

  it('keeps presets, settings and history across a restart', async () => {
    const dir = tempDir()
    const first = await start(dir)
    const saved = await first.invoke('presets.save', { preset: { kind: 'blocks', name: 'ramp', architecture: 'sd1', convention: { name: 'supermerger', version: '2025-11' }, values: { BASE: 0.1 } } })
    await first.invoke('settings.update', { defaultOutputDType: 'bf16' })
    await first.app.stop()
    apps.splice(apps.indexOf(first.app), 1)

    const second = await start(dir)
    expect(await second.invoke('presets.list', {})).toEqual({ ok: true, value: [saved.value] })
    expect(await second.invoke('settings.get', {})).toMatchObject({ ok: true, value: { defaultOutputDType: 'bf16' } })
  })

  it('says how to build the app when out/renderer is missing', async () => {
    const dir = tempDir()
    const error = await amalgamErrorOf(
      startServeApp({ libraries: [], dataDir: join(dir, 'data'), backends: recordingBackends().backends, report: () => undefined, launcher: silentLauncher().launcher, rendererRoot: join(dir, 'nothing') }),
    )
    expect(error.message).toMatch(/: the app is not built yet \(no index\.html\); run `npm run build` in .*, then `npx amalgam serve` again$/)
  })

  it('refuses a missing --library folder and leaves nothing running', async () => {
    const dir = tempDir()
    const error = await amalgamErrorOf(
      startServeApp({ libraries: [join(dir, 'nope')], dataDir: join(dir, 'data'), backends: recordingBackends().backends, report: () => undefined, launcher: silentLauncher().launcher, rendererRoot: fakeRenderer(dir) }),
    )
    expect(error.message).toBe(`${join(dir, 'nope')}: no such folder`)
  })
})

describe('amalgam serve arguments', () => {
  it('takes repeated --library, --port and --data', () => {
    expect(parseServeArgs(['--library', '/a', '--library', '/b', '--port', '8123', '--data', '/d'])).toEqual({ libraries: ['/a', '/b'], port: 8123, dataDir: '/d' })
    expect(parseServeArgs([])).toEqual({ libraries: [], port: undefined, dataDir: defaultDataDir() })
  })

  it('refuses bad ports and unknown options as usage errors', () => {
    expect(() => parseServeArgs(['--port', '80a'])).toThrow(new UsageError('--port 80a: expected a port number from 1 to 65535'))
    expect(() => parseServeArgs(['--port', '70000'])).toThrow(UsageError)
    expect(() => parseServeArgs(['--host', '0.0.0.0'])).toThrow(UsageError)
  })
})
