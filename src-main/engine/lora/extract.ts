import { basename } from 'node:path'
import type { Tf } from '../compute/backend'
import { deriveRng } from '../compute/rng'
import { AmalgamError } from '../errors'
import type { TensorInfo } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import { TensorReader } from '../formats/tensor-reader'
import { openPlanInput, sameShape, type PlanInput } from '../plan/plan-inputs'
import { lowRankFactors } from './extract-factors'
import { kohyaBaseModelVersion, kohyaNetworkMetadata, writeKohyaLora, type FactoredModule, type LoraDType } from './extract-output'
import { extractionTargets, type ExtractionTarget } from './extract-targets'

export interface ExtractOptions {
  /** the fine-tuned model (b) */
  readonly tuned: string
  /** the model it was tuned from (a): the LoRA is b − a */
  readonly base: string
  readonly out: string
  readonly rank: number
  /** rank of 3x3 (and larger) convolutions; 1x1 convolutions count as linear layers */
  readonly convRank: number
  /** stored alpha of linear modules; null = the rank (scale 1). Conv modules use it too when given, else their conv rank. */
  readonly alpha: number | null
  readonly dtype: LoraDType
  /** see FactorOptions.clampQuantile; kohya's default is 0.99 */
  readonly clampQuantile: number
  /** layers whose largest |b − a| is at most this are left out of the LoRA */
  readonly minDiff: number
  readonly overwrite: boolean
}

export type ExtractEvent =
  | { readonly type: 'start'; readonly modules: number; readonly backend: string }
  | { readonly type: 'module'; readonly index: number; readonly modules: number; readonly name: string; readonly skipped: boolean }
  | { readonly type: 'done'; readonly path: string; readonly written: number; readonly skipped: number; readonly seconds: number }

export interface ExtractResult {
  readonly path: string
  readonly architecture: string
  /** modules written */
  readonly written: readonly string[]
  /** layers left out because b − a is (nearly) zero there, with their largest |b − a| */
  readonly skipped: readonly { readonly name: string; readonly maxDiff: number }[]
  readonly seconds: number
}

/** Metadata key of Amalgam's record of how the LoRA was made. */
export const EXTRACT_LINEAGE_KEY = 'amalgam.lora_extract'

/**
 * Extracts a LoRA from b − a by truncated SVD, one layer at a time on this thread with tfjs (the
 * matmuls run on the GPU backend when there is one): memory holds one layer of each model plus the
 * LoRA's factors, which are written at the end (the file's layout needs the list of modules, which
 * is known only once near-zero layers have been skipped).
 */
export async function extractLora(tf: Tf, backend: string, options: ExtractOptions, onEvent: (event: ExtractEvent) => void = () => undefined): Promise<ExtractResult> {
  checkOptions(options)
  const started = Date.now()
  const tuned = await openPlanInput(options.tuned, '--tuned')
  const base = await openPlanInput(options.base, '--base')
  const architecture = tuned.detection.architecture
  if (base.detection.architecture !== architecture) {
    throw new AmalgamError('INCOMPATIBLE_MODELS', `--tuned ${tuned.path} is ${architecture} but --base ${base.path} is ${base.detection.architecture}: a LoRA is the difference of two models of one architecture`)
  }
  const targets = extractionTargets(architecture, tuned.tensors)
  if (targets.length === 0) throw new AmalgamError('BAD_ARGUMENT', `${tuned.path}: has no layer a LoRA adapts`)
  onEvent({ type: 'start', modules: targets.length, backend })
  const modules: FactoredModule[] = []
  const skipped: { name: string; maxDiff: number }[] = []
  const reader = new TensorReader()
  try {
    for (const [index, target] of targets.entries()) {
      const delta = difference(reader, target, tensorOf(tuned, target, '--tuned'), tensorOf(base, target, '--base'))
      const maxDiff = delta.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
      const skip = !(maxDiff > options.minDiff)
      if (skip) skipped.push({ name: target.name, maxDiff })
      else modules.push(factorTarget(tf, target, delta, options))
      onEvent({ type: 'module', index, modules: targets.length, name: target.name, skipped: skip })
      // let pending I/O (progress output) through between layers
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    reader.close()
  }
  if (modules.length === 0) {
    throw new AmalgamError('BAD_ARGUMENT', `${tuned.path} and ${base.path} differ by at most ${options.minDiff} on every layer a LoRA adapts: there is nothing to extract`)
  }
  const metadata = {
    ...kohyaNetworkMetadata({
      rank: options.rank,
      alpha: options.alpha ?? options.rank,
      convRank: options.convRank,
      convAlpha: options.alpha ?? options.convRank,
      baseModelVersion: kohyaBaseModelVersion(architecture, base.detection.predictionType),
    }),
    ss_sd_model_name: basename(base.path),
    ss_output_name: basename(options.out).replace(/\.safetensors$/, ''),
    [EXTRACT_LINEAGE_KEY]: JSON.stringify({
      tuned: sourceOf(tuned),
      base: sourceOf(base),
      rank: options.rank,
      convRank: options.convRank,
      alpha: options.alpha,
      clampQuantile: options.clampQuantile,
      minDiff: options.minDiff,
      skipped: skipped.map((s) => s.name),
    }),
  }
  await writeKohyaLora(options.out, modules, options.dtype, metadata, { overwrite: options.overwrite, inputs: [tuned.path, base.path] })
  const seconds = (Date.now() - started) / 1000
  onEvent({ type: 'done', path: options.out, written: modules.length, skipped: skipped.length, seconds })
  return { path: options.out, architecture, written: modules.map((m) => m.name), skipped, seconds }
}

function checkOptions(options: ExtractOptions): void {
  const positiveInteger = (value: number, name: string): void => {
    if (!(Number.isInteger(value) && value >= 1)) throw new AmalgamError('BAD_ARGUMENT', `${name} must be a whole number of at least 1, got ${value}`)
  }
  positiveInteger(options.rank, '--rank')
  positiveInteger(options.convRank, '--conv-rank')
  if (options.alpha !== null && !(options.alpha > 0 && Number.isFinite(options.alpha))) throw new AmalgamError('BAD_ARGUMENT', `--alpha must be a positive number, got ${options.alpha}`)
  if (!(options.clampQuantile > 0 && options.clampQuantile <= 1)) throw new AmalgamError('BAD_ARGUMENT', `--clamp-quantile must be in (0, 1], got ${options.clampQuantile}`)
  if (!(options.minDiff >= 0)) throw new AmalgamError('BAD_ARGUMENT', `--min-diff must be at least 0, got ${options.minDiff}`)
}

function tensorOf(input: PlanInput, target: ExtractionTarget, flag: string): TensorInfo {
  const tensor = input.tensors.get(target.target.key)
  if (tensor === undefined) throw new AmalgamError('MISSING_KEY', `${flag} ${input.path}: has no ${target.target.key}, which the other model has`)
  return tensor
}

/** b − a over the target's rows, in float32. */
function difference(reader: TensorReader, target: ExtractionTarget, tuned: TensorInfo, base: TensorInfo): Float32Array {
  if (!sameShape(tuned.shape, base.shape)) {
    throw new AmalgamError('SHAPE_MISMATCH', `${target.target.key} is ${JSON.stringify(tuned.shape)} in --tuned but ${JSON.stringify(base.shape)} in --base`)
  }
  const rowSize = numelOf(tuned.shape.slice(1))
  const rows = target.target.rows
  const start = rows === null ? 0 : rows.start * rowSize
  const end = rows === null ? numelOf(tuned.shape) : (rows.start + rows.count) * rowSize
  const b = reader.readFloat32(tuned.locator, start, end)
  const a = reader.readFloat32(base.locator, start, end)
  for (let i = 0; i < b.length; i++) b[i]! -= a[i]!
  return b
}

function factorTarget(tf: Tf, target: ExtractionTarget, delta: Float32Array, options: ExtractOptions): FactoredModule {
  const [rows = 0, ...innerShape] = target.shape
  const inner = numelOf(innerShape)
  // a kernel larger than 1x1 makes a LoCon conv module; a 1x1 conv is a linear layer in disguise
  const conv = innerShape.length === 3 && inner > (innerShape[0] ?? 0)
  const rank = conv ? options.convRank : options.rank
  const rng = deriveRng(0, target.name, 'lora-extract', 0)
  const factors = lowRankFactors(tf, delta, rows, inner, { rank, alpha: options.alpha, clampQuantile: options.clampQuantile }, rng)
  return { name: target.name, weightShape: target.shape, factors, alpha: options.alpha ?? factors.rank }
}

function sourceOf(input: PlanInput): { file: string; bytes: number } {
  return { file: basename(input.path), bytes: input.size }
}
