import type { Tf } from '../compute/backend'
import { deriveRng } from '../compute/rng'
import { AmalgamError } from '../errors'
import type { TensorInfo } from '../formats/checkpoint'
import { numelOf } from '../formats/dtype'
import type { TensorReader } from '../formats/tensor-reader'
import { sameShape } from '../plan/plan-inputs'
import { lowRankFactors } from './extract-factors'
import type { FactoredModule } from './extract-output'
import type { ExtractionTarget } from './extract-targets'

/** One layer's extraction, as sent to a worker thread: plain, structured-cloneable data. */
export interface ModuleExtraction {
  readonly target: ExtractionTarget
  readonly tuned: TensorInfo
  readonly base: TensorInfo
  readonly rank: number
  readonly convRank: number
  readonly alpha: number | null
  readonly clampQuantile: number
  readonly minDiff: number
}

export type ModuleOutcome =
  | { readonly skipped: false; readonly module: FactoredModule }
  /** b − a is at most minDiff everywhere on the layer */
  | { readonly skipped: true; readonly maxDiff: number }

/** Reads b − a for one layer and factors it, or reports it as (nearly) unchanged. */
export function extractModule(tf: Tf, reader: TensorReader, job: ModuleExtraction): ModuleOutcome {
  const delta = difference(reader, job)
  const maxDiff = delta.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
  if (!(maxDiff > job.minDiff)) return { skipped: true, maxDiff }
  const { target } = job
  const [rows = 0, ...innerShape] = target.shape
  const inner = numelOf(innerShape)
  // a kernel larger than 1x1 makes a LoCon conv module; a 1x1 conv is a linear layer in disguise
  const conv = innerShape.length === 3 && inner > (innerShape[0] ?? 0)
  const rank = conv ? job.convRank : job.rank
  const rng = deriveRng(0, target.name, 'lora-extract', 0)
  const factors = lowRankFactors(tf, delta, rows, inner, { rank, alpha: job.alpha, clampQuantile: job.clampQuantile }, rng)
  return { skipped: false, module: { name: target.name, weightShape: target.shape, factors, alpha: job.alpha ?? factors.rank } }
}

/** b − a over the target's rows, in float32. */
function difference(reader: TensorReader, { target, tuned, base }: ModuleExtraction): Float32Array {
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
