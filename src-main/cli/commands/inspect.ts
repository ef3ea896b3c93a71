import { parseArgs } from 'node:util'
import { blockCoverage } from '../../engine/library/block-coverage'
import { HashCache } from '../../engine/library/hash-cache'
import { inspectModelFully } from '../../engine/library/inspect'
import { UsageError, type Command } from '../command'
import { entrySummary, hashEntries } from './library-report'

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show what a checkpoint or model folder is: architecture, components, dtypes, metadata, hashes',
  usage: [
    'usage: amalgam inspect PATH [--json] [--hash]',
    '',
    '  --json   print the model entry as JSON (its fields are described in docs/LIBRARY.md)',
    '  --hash   compute the file\'s hashes (AutoV1, AutoV2, AutoV3) when they are not cached yet;',
    '           this reads the whole file (progress on stderr)',
    '',
    'Reads only the header (safetensors) or pickle (torch files); nothing in the file is run.',
    'Exit status: 0 the model was read, 1 it is malformed, hostile or unreadable (the problem is printed), 2 usage error.',
  ].join('\n'),
  async run(argv, io) {
    const { path, json, hash } = parseInspectArgs(argv)
    const hashCache = new HashCache()
    const inspection = await inspectModelFully(path, { hashCache })
    let entry = inspection.entry
    if (hash) entry = (await hashEntries([entry], hashCache, io, 'inspect'))[0] ?? entry
    io.out(json ? JSON.stringify(entry, null, 2) : entrySummary(entry, inspection.detection === null ? null : blockCoverage(inspection.detection, inspection.keys)))
    if (entry.status === 'error') {
      io.err(`amalgam inspect: ${entry.problem ?? `${entry.path}: cannot be read`}`)
      return 1
    }
    return 0
  },
}

function parseInspectArgs(argv: readonly string[]): { path: string; json: boolean; hash: boolean } {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false }, hash: { type: 'boolean', default: false } }, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const [path, ...extra] = parsed.positionals
  if (path === undefined) throw new UsageError('missing PATH: the checkpoint file or model folder to inspect')
  if (extra.length > 0) throw new UsageError(`one PATH at a time (also got ${extra.join(' ')}); use \`amalgam scan DIR\` for many`)
  return { path, json: parsed.values.json, hash: parsed.values.hash }
}
