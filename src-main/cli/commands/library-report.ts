import { relative } from 'node:path'
import type { ModelEntry } from '../../common/model-entry'
import type { BlockCoverage } from '../../engine/library/block-coverage'
import { hashModelFiles, type HashJobProgress } from '../../engine/library/background-hash'
import type { HashCache } from '../../engine/library/hash-cache'
import { formatBytes } from '../../engine/plan/format'
import type { CommandIO } from '../command'

/** Metadata shown by `amalgam inspect` (all of it is in --json): model cards, training tools, merge records. */
const NOTABLE_METADATA = /^(modelspec\.|ss_(sd_model_name|base_model_version|output_name|network_module|training_comment)$|amalgam\.version$|sd_merge_recipe$)/
const VALUE_WIDTH = 100

const count = (n: number): string => n.toLocaleString('en-US')

/** The human summary `amalgam inspect` prints. */
export function entrySummary(entry: ModelEntry, coverage: BlockCoverage | null): string {
  const lines: string[] = [entry.name]
  const row = (label: string, value: string): void => void lines.push(`  ${label.padEnd(13)} ${value}`)
  row('path', entry.path)
  row('format', `${entry.format}, ${formatBytes(entry.size)}, modified ${new Date(entry.mtimeMs).toISOString()}`)
  row('status', entry.problem === null ? entry.status : `${entry.status}: ${withoutPath(entry.problem, entry.path)}`)
  if (entry.status !== 'error') {
    row('architecture', entry.variant === null ? entry.architecture : `${entry.architecture} (${entry.variant})`)
    row('prediction', entry.predictionSource === null ? entry.predictionType : `${entry.predictionType} (from ${entry.predictionSource})`)
    row('layout', entry.layout)
    row('parameters', `${count(entry.params)} in ${count(entry.keys)} keys`)
    row('dtypes', dtypeList(entry))
    if (entry.components.length > 0) {
      lines.push('  components')
      const width = Math.max(...entry.components.map((c) => c.id.length))
      for (const c of entry.components) lines.push(`    ${c.id.padEnd(width)}  ${count(c.keys).padStart(6)} keys  ${count(c.params).padStart(15)} params`)
    }
    if (entry.lora !== undefined) {
      const { networkTypes, baseArchitecture, modules, rank, alpha } = entry.lora
      row('lora', `${networkTypes.join(', ')} for ${baseArchitecture}, ${modules} modules, rank ${rank ?? '?'}, alpha ${alpha ?? 'none'} (amalgam lora inspect for more)`)
    }
    if (entry.llm !== null) {
      const { family, layers, hiddenSize, vocabSize, tiedEmbeddings } = entry.llm
      row('llm', `${family}, ${layers} layers, hidden ${hiddenSize ?? '?'}, vocabulary ${vocabSize ?? '?'}, ${tiedEmbeddings ? 'tied' : 'separate'} output embedding`)
    }
  }
  if (entry.status !== 'error') row('hashes', hashText(entry))
  const notable = Object.entries(entry.metadata).filter(([key]) => NOTABLE_METADATA.test(key))
  const others = Object.keys(entry.metadata).length - notable.length
  if (notable.length > 0 || others > 0) {
    lines.push('  metadata')
    for (const [key, value] of notable) lines.push(`    ${key}: ${truncate(value.replace(/\s+/g, ' '))}`)
    if (others > 0) lines.push(`    (${others} more entr${others === 1 ? 'y' : 'ies'}: amalgam inspect --json shows all)`)
  }
  if (entry.recipe !== null) row('recipe', 'an Amalgam recipe is embedded (amalgam inspect --json shows it; the app loads it into the builder)')
  if (coverage !== null) {
    const { convention, skipped, unmatched } = coverage
    row('blocks', `${convention.name} ${convention.version}: ${coverage.blocks} blocks, ${count(coverage.assigned)} keys in a block`)
    if (skipped.count > 0) {
      lines.push(`    ${count(skipped.count)} keys the convention skips, e.g.`)
      for (const s of skipped.examples) lines.push(`      ${s.key} (${s.reason})`)
    }
    if (unmatched.count > 0) {
      lines.push(`    ${count(unmatched.count)} keys in no block, e.g.`)
      for (const u of unmatched.examples) lines.push(`      ${u.key} (${u.fallback === null ? 'kept from the primary model' : `merged with ${u.fallback}`})`)
    }
  }
  if (entry.notes.length > 0) {
    lines.push('  notes')
    for (const note of entry.notes) lines.push(`    - ${note}`)
  }
  return lines.join('\n')
}

function hashText(entry: ModelEntry): string {
  const h = entry.hashes
  const parts = [
    h.autov2 === null ? null : `AutoV2 ${h.autov2}`,
    h.autov3 === null ? null : `AutoV3 ${h.autov3}`,
    h.autov1 === null ? null : `AutoV1 ${h.autov1}`,
    h.sha256 === null ? null : `SHA-256 ${h.sha256}`,
  ].filter((p): p is string => p !== null)
  if (parts.length > 0) return parts.join(', ')
  return entry.format === 'safetensors' || entry.format === 'ckpt' ? 'not computed yet (--hash computes them)' : 'none (a model folder has no single-file hash)'
}

function dtypeList(entry: ModelEntry): string {
  const sorted = Object.entries(entry.dtypes).sort((a, b) => b[1] - a[1])
  if (sorted.length === 0) return '-'
  return sorted.map(([dtype, params]) => `${dtype} ${entry.params > 0 ? ((params / entry.params) * 100).toFixed(params === entry.params ? 0 : 1) : 0}%`).join(', ')
}

/** The dtype holding most parameters ("-" for an entry without tensors). */
function mainDtype(entry: ModelEntry): string {
  return Object.entries(entry.dtypes).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-'
}

function truncate(text: string): string {
  return text.length > VALUE_WIDTH ? `${text.slice(0, VALUE_WIDTH - 1)}…` : text
}

/** Problems name their file; where the row already does, the path is left out. */
function withoutPath(problem: string, path: string): string {
  return problem.startsWith(`${path}: `) ? problem.slice(path.length + 2) : problem
}

/** The table `amalgam scan` prints: one row per model, paths relative to the scanned folder. */
export function scanTable(entries: readonly ModelEntry[], root: string): string {
  const header = ['NAME', 'ARCH', 'VARIANT', 'PRED', 'DTYPE', 'SIZE', 'AUTOV2', 'STATUS']
  const rows = entries.map((e) => [
    relative(root, e.path) || e.name,
    e.status === 'error' ? '-' : e.architecture,
    e.variant ?? '-',
    e.status === 'error' ? '-' : e.predictionType,
    mainDtype(e),
    formatBytes(e.size),
    e.hashes.autov2 ?? '-',
    e.problem === null ? e.status : `${e.status}: ${withoutPath(e.problem, e.path)}`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  // the last column (status and problem) is not padded: it may be long
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const summary = `${entries.length} model${entries.length === 1 ? '' : 's'}; ${entries.filter((e) => e.status === 'error').length} with errors`
  return [line(header), ...rows.map(line), '', summary].join('\n')
}

/**
 * Progress on stderr: a line redrawn in place on a terminal; otherwise nothing but the
 * start of each new item, so a log file gets one line per file.
 */
export function progressReporter(io: CommandIO): { show(text: string, item: string): void; clear(): void } {
  const terminal = io.interactive ? process.stderr : null
  let shown = false
  let lastItem: string | null = null
  return {
    show(text, item) {
      if (terminal === null) {
        if (item !== lastItem) io.err(text)
      } else {
        const width = (terminal.columns || 100) - 1
        terminal.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`)
        shown = true
      }
      lastItem = item
    },
    clear() {
      if (shown) terminal?.write('\r\x1b[K')
      shown = false
    },
  }
}

function hashProgressText(p: HashJobProgress): string {
  const amount = p.bytesDone > 0 ? `${Math.floor((p.bytesDone / p.bytesTotal) * 100)}% of ${formatBytes(p.bytesTotal)}` : formatBytes(p.bytesTotal)
  return `hashing ${Math.min(p.done + 1, p.total)}/${p.total} ${p.path} (${amount})`
}

/**
 * The entries with the hashes of their files (from the cache, else computed in a worker thread with
 * progress on stderr). Model folders, unreadable files and files that fail to hash keep what they had.
 */
export async function hashEntries(entries: readonly ModelEntry[], cache: HashCache, io: CommandIO, command: string): Promise<ModelEntry[]> {
  const wanted = entries.filter((e) => e.status !== 'error' && (e.format === 'safetensors' || e.format === 'ckpt') && e.hashes.sha256 === null).map((e) => e.path)
  if (wanted.length === 0) return [...entries]
  const progress = progressReporter(io)
  try {
    const hashes = await hashModelFiles(wanted, {
      cache,
      onProgress: (p) => progress.show(hashProgressText(p), p.path),
      onError: (err) => {
        progress.clear()
        io.err(`amalgam ${command}: could not hash ${err.message}`)
      },
    })
    return entries.map((e) => ({ ...e, hashes: hashes.get(e.path) ?? e.hashes }))
  } finally {
    progress.clear()
  }
}
