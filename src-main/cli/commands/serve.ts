import { parseArgs } from 'node:util'
import { startServeApp } from '../../server/serve-app'
import { defaultDataDir } from '../../services/store'
import { UsageError, type Command } from '../command'

export interface ServeArgs {
  readonly libraries: readonly string[]
  readonly port: number | undefined
  readonly dataDir: string
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the app in a browser on this machine (listens on 127.0.0.1 only)',
  usage: [
    'usage: amalgam serve [--library DIR]... [--port N] [--data DIR]',
    '',
    '  --library DIR  add DIR to the library folders (repeatable)',
    '  --port N       listen on port N of 127.0.0.1 (default: a free port)',
    `  --data DIR     keep settings, presets and history in DIR (default: the desktop app's, ${defaultDataDir()})`,
    '',
    'Prints an address with an access token: open it in a browser on this machine. The page is the',
    'built app (out/renderer): run `npm run build` once first. Ctrl+C stops the server.',
  ].join('\n'),
  async run(argv, io) {
    const args = parseServeArgs(argv)
    const report = (message: string): void => io.err(`amalgam serve: ${message}`)
    // loaded here, not at the top: the engine is only needed when the server actually starts
    const { createEngineBackends } = await import('../../services/engine-backends')
    const backends = await createEngineBackends({ dataDir: args.dataDir, report })
    const app = await startServeApp({ ...args, ...(args.port === undefined ? {} : { port: args.port }), backends, report })
    io.out(`Amalgam is running at ${app.server.url}`)
    io.out('Open that address in a browser on this machine (it carries the access token).')
    io.out(`data: ${app.dataFile}`)
    io.out('Ctrl+C stops the server.')
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    io.err('amalgam serve: stopping')
    await app.stop()
    return 0
  },
}

export function parseServeArgs(argv: readonly string[]): ServeArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: { library: { type: 'string', multiple: true, default: [] }, port: { type: 'string' }, data: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  let port: number | undefined
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number from 1 to 65535`)
  }
  return { libraries: values.library, port, dataDir: values.data ?? defaultDataDir() }
}
