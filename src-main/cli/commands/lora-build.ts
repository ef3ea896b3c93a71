import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadComputeBackend } from '../../engine/compute/backend'
import { extractLora, type ExtractEvent } from '../../engine/lora/extract'
import { LORA_DTYPES, type LoraDType } from '../../engine/lora/extract-output'
import { mergeLoras, type MergeLorasEvent } from '../../engine/lora/merge'
import { UsageError, type CommandIO } from '../command'

export const LORA_EXTRACT_USAGE = [
  '       amalgam lora extract --tuned B --base A --out L.safetensors [--rank N] [--conv-rank N] [--alpha X]',
  '                            [--dtype fp16|bf16|fp32] [--clamp-quantile Q] [--min-diff D] [--overwrite] [--json-progress]',
].join('\n')

export const LORA_MERGE_USAGE = '       amalgam lora merge --input L1 --input L2 [--weight w1 --weight w2] --rank N --out L.safetensors [--conv-rank N] [--alpha X] [--dtype ...] [--overwrite] [--json-progress]'

export const LORA_BUILD_HELP = [
  '',
  'extract: a kohya LoRA / LoCon of B − A by truncated SVD (docs/LORA.md)',
  '  --rank N             rank of linear (and 1x1 conv) layers, default 32',
  '  --conv-rank N        rank of 3x3 conv layers, default the --rank',
  '  --alpha X            stored alpha, default the rank (scale 1); the factors are scaled so B − A is kept',
  '  --dtype T            fp16 (default), bf16 or fp32',
  '  --clamp-quantile Q   clamp factor values to their Q-quantile as kohya does, default 0.99; 1 = off',
  '  --min-diff D         leave out layers whose largest |B − A| is at most D, default 1e-6',
  '',
  'merge: Σ weight · delta of each LoRA per module, re-factored to --rank (modules of only some inputs keep their weight)',
  '  --weight w           one per --input, in order, default 1 each',
].join('\n')

/** node's parse errors become usage errors (exit status 2, usage printed). */
function parsed<T>(parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

function numberOf(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got ${String(value)}`)
  return n
}

function stringOf(value: unknown, flag: string): string {
  if (typeof value !== 'string') throw new UsageError(`missing ${flag}`)
  return value
}

function dtypeOf(value: unknown): LoraDType {
  if (value === undefined) return 'fp16'
  const dtype = LORA_DTYPES.find((d) => d === value)
  if (dtype === undefined) throw new UsageError(`--dtype expects one of ${LORA_DTYPES.join(', ')}, got ${String(value)}`)
  return dtype
}

/** Prints JSON lines on stdout with --json-progress, else a line per tenth of the modules on stderr. */
function reporter(io: CommandIO, json: boolean): (event: ExtractEvent | MergeLorasEvent) => void {
  let shown = 0
  return (event) => {
    if (json) return io.out(JSON.stringify(event))
    if (event.type === 'start') io.err(`${event.modules} modules (compute backend: ${event.backend})`)
    if (event.type === 'module') {
      const tenth = Math.floor(((event.index + 1) * 10) / event.modules)
      if (tenth > shown) {
        shown = tenth
        io.err(`  ${event.index + 1}/${event.modules}`)
      }
    }
  }
}

export async function runLoraExtract(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parsed(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
    tuned: { type: 'string' },
    base: { type: 'string' },
    out: { type: 'string' },
    rank: { type: 'string' },
    'conv-rank': { type: 'string' },
    alpha: { type: 'string' },
    dtype: { type: 'string' },
    'clamp-quantile': { type: 'string' },
    'min-diff': { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'json-progress': { type: 'boolean', default: false },
      },
    }),
  )
  const rank = numberOf(values.rank, '--rank', 32)
  const backend = await loadComputeBackend()
  const json = values['json-progress'] === true
  const result = await extractLora(
    backend.name,
    {
      tuned: resolve(stringOf(values.tuned, '--tuned B (the fine-tuned model)')),
      base: resolve(stringOf(values.base, '--base A (the model it was tuned from)')),
      out: resolve(stringOf(values.out, '--out L.safetensors')),
      rank,
      convRank: numberOf(values['conv-rank'], '--conv-rank', rank),
      alpha: values.alpha === undefined ? null : numberOf(values.alpha, '--alpha', 0),
      dtype: dtypeOf(values.dtype),
      clampQuantile: numberOf(values['clamp-quantile'], '--clamp-quantile', 0.99),
      minDiff: numberOf(values['min-diff'], '--min-diff', 1e-6),
      overwrite: values.overwrite === true,
    },
    reporter(io, json),
  )
  if (!json) {
    io.out(`wrote ${result.path}: ${result.written.length} modules (${result.architecture}) in ${result.seconds.toFixed(1)} s`)
    if (result.skipped.length > 0) io.out(`left out (b − a nearly zero): ${result.skipped.map((s) => s.name).join(', ')}`)
  }
  return 0
}

export async function runLoraMerge(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parsed(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
    input: { type: 'string', multiple: true },
    weight: { type: 'string', multiple: true },
    out: { type: 'string' },
    rank: { type: 'string' },
    'conv-rank': { type: 'string' },
    alpha: { type: 'string' },
    dtype: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'json-progress': { type: 'boolean', default: false },
      },
    }),
  )
  const paths = values.input ?? []
  const weights = values.weight ?? []
  if (paths.length === 0) throw new UsageError('missing --input: the LoRAs to merge')
  if (weights.length > 0 && weights.length !== paths.length) throw new UsageError(`give one --weight per --input (${paths.length} inputs, ${weights.length} weights)`)
  if (values.rank === undefined) throw new UsageError('missing --rank: the rank of the merged LoRA')
  const rank = numberOf(values.rank, '--rank', 0)
  const backend = await loadComputeBackend()
  const json = values['json-progress'] === true
  const result = await mergeLoras(
    backend.tf,
    backend.name,
    {
      inputs: paths.map((path, i) => ({ path: resolve(path), weight: numberOf(weights[i], '--weight', 1) })),
      out: resolve(stringOf(values.out, '--out L.safetensors')),
      rank,
      convRank: numberOf(values['conv-rank'], '--conv-rank', rank),
      alpha: values.alpha === undefined ? null : numberOf(values.alpha, '--alpha', 0),
      dtype: dtypeOf(values.dtype),
      overwrite: values.overwrite === true,
    },
    reporter(io, json),
  )
  if (!json) {
    io.out(`wrote ${result.path}: ${result.written.length} modules in ${result.seconds.toFixed(1)} s`)
    for (const l of result.leftOut) io.err(`left out ${l.module} of ${l.file}: ${l.why}`)
  }
  return 0
}
