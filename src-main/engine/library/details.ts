import { readFile } from 'node:fs/promises'
import type { ModelDetails } from '../../common/ipc'
import { Lineage } from '../../common/lineage'
import { lineagePathFor, lineagePathInFolder } from '../lineage/sidecar'
import { ancestryOf } from './ancestry'
import { inspectModel, type InspectOptions } from './inspect'

/** Everything the app shows about one model: its entry, the tree of its ancestors, and its lineage sidecar. */
export async function modelDetails(path: string, opts: InspectOptions = {}): Promise<ModelDetails> {
  const entry = await inspectModel(path, opts)
  const { lineage, note } = await readLineageSidecar(entry.format === 'hf-folder' ? lineagePathInFolder(entry.path) : lineagePathFor(entry.path))
  return {
    entry: note === null ? entry : { ...entry, notes: [...entry.notes, note] },
    ancestry: ancestryOf(entry, lineage),
    lineage,
  }
}

/** The lineage sidecar (`<name>.lineage.json` beside a file, amalgam.lineage.json in a folder), when there is one; one that does not parse is a note, not an error. */
async function readLineageSidecar(path: string): Promise<{ lineage: Lineage | null; note: string | null }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return { lineage: null, note: null }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { lineage: null, note: `${path} is not valid JSON; ignored` }
  }
  const parsed = Lineage.safeParse(json)
  if (!parsed.success) return { lineage: null, note: `${path} is not a lineage record this version reads (${parsed.error.issues[0]?.message ?? 'invalid'}); ignored` }
  return { lineage: parsed.data, note: null }
}
