import { basename } from 'node:path'
import { AmalgamError } from '../errors'
import { defaultThreads, EngineWorkerPool } from '../execute/worker-pool'
import type { TensorInfo } from '../formats/checkpoint'
import { openPlanInput, type PlanInput } from '../plan/plan-inputs'
import type { ModuleExtraction, ModuleOutcome } from './extract-module'
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
  /** worker threads; default: the engine's (execute/worker-pool.ts defaultThreads of the tuned file's size) */
  readonly threads?: number
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
 * Extracts a LoRA from b − a by truncated SVD, one layer per worker thread at a time with tfjs (the
 * matmuls run on the GPU backend or the native kernel): memory holds one layer of each model per
 * thread plus the LoRA's factors, which are written at the end (the file's layout needs the list of
 * modules, which is known only once near-zero layers have been skipped). `backend` names the compute
 * backend for the start event; the workers load the same one.
 */
export async function extractLora(backend: string, options: ExtractOptions, onEvent: (event: ExtractEvent) => void = () => undefined): Promise<ExtractResult> {
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
  const outcomes = await extractModules(targets, (target) => ({
    target,
    tuned: tensorOf(tuned, target, '--tuned'),
    base: tensorOf(base, target, '--base'),
    rank: options.rank,
    convRank: options.convRank,
    alpha: options.alpha,
    clampQuantile: options.clampQuantile,
    minDiff: options.minDiff,
  }), options.threads ?? defaultThreads(tuned.size), onEvent)
  const modules: FactoredModule[] = []
  const skipped: { name: string; maxDiff: number }[] = []
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.skipped) skipped.push({ name: targets[index]!.name, maxDiff: outcome.maxDiff })
    else modules.push(outcome.module)
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

/**
 * Every layer's extraction on the engine's worker threads, one layer per thread at a time (memory
 * holds one layer of each model per thread), results in layer order whatever order they finish in.
 */
async function extractModules(
  targets: readonly ExtractionTarget[],
  jobOf: (target: ExtractionTarget) => ModuleExtraction,
  threads: number,
  onEvent: (event: ExtractEvent) => void,
): Promise<ModuleOutcome[]> {
  const pool = new EngineWorkerPool({ threads: Math.max(1, Math.min(threads, targets.length)) })
  const controller = new AbortController()
  const outcomes = new Array<ModuleOutcome>(targets.length)
  let next = 0
  const work = async (): Promise<void> => {
    while (next < targets.length && !controller.signal.aborted) {
      const index = next++
      const target = targets[index]!
      const outcome = await pool.runLoraModule(jobOf(target), controller.signal)
      outcomes[index] = outcome
      onEvent({ type: 'module', index, modules: targets.length, name: target.name, skipped: outcome.skipped })
    }
  }
  try {
    await Promise.all(Array.from({ length: pool.threads }, () => work().catch((err: unknown) => {
      // the first failure stops the other threads' queues; their layer in progress is abandoned
      controller.abort()
      throw err
    })))
    return outcomes
  } finally {
    await pool.destroy()
  }
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

function sourceOf(input: PlanInput): { file: string; bytes: number } {
  return { file: basename(input.path), bytes: input.size }
}
