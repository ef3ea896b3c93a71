import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { ModelEntry } from '../../common/model-entry'
import { EntryCache } from '../../engine/library/entry-cache'
import { defaultCacheDir, HashCache } from '../../engine/library/hash-cache'
import { scanFolder } from '../../engine/library/scan'
import { UsageError, type Command } from '../command'
import { hashEntries, progressReporter, scanTable } from './library-report'

export const scanCommand: Command = {
  name: 'scan',
  summary: 'list every checkpoint and model folder under a folder, with architecture, dtype and status',
  usage: [
    'usage: amalgam scan DIR [--json] [--hash]',
    '',
    '  --json   print a JSON array of model entries (as `amalgam inspect --json` prints one)',
    '  --hash   compute the hashes of files not hashed yet (reads every such file whole; progress on stderr)',
    '',
    'Looks inside subfolders (hidden folders and *.partial files are skipped); a diffusers or Hugging Face',
    'model folder is one row. Files that did not change since the last scan are not opened again.',
    'A malformed or hostile file is a row with its problem, not a failure.',
    'Exit status: 0 scanned, 1 DIR cannot be read, 2 usage error.',
  ].join('\n'),
  async run(argv, io) {
    const { dir, json, hash } = parseScanArgs(argv)
    const root = resolve(dir)
    const hashCache = new HashCache()
    const progress = progressReporter(io)
    let entries: ModelEntry[]
    try {
      entries = await scanFolder(root, {
        cache: new EntryCache(join(defaultCacheDir(), 'library')),
        hashCache,
        onProgress: (p) => {
          if (io.interactive) progress.show(`scanning ${p.done}/${p.total} ${p.current ?? ''}`, 'scan')
        },
      })
    } finally {
      progress.clear()
    }
    if (hash) entries = await hashEntries(entries, hashCache, io, 'scan')
    io.out(json ? JSON.stringify(entries, null, 2) : scanTable(entries, root))
    return 0
  },
}

function parseScanArgs(argv: readonly string[]): { dir: string; json: boolean; hash: boolean } {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false }, hash: { type: 'boolean', default: false } }, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const [dir, ...extra] = parsed.positionals
  if (dir === undefined) throw new UsageError('missing DIR: the folder to scan')
  if (extra.length > 0) throw new UsageError(`one DIR at a time (also got ${extra.join(' ')})`)
  return { dir, json: parsed.values.json, hash: parsed.values.hash }
}
