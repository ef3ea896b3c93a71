import { CutCursor, CUT_ALL, cutFromStatistic, cutRank, magnitudeKey, selectAbs, type BlockSource, type DescendingCut } from '../compute/selection'
import { passThrough } from './kernel-helpers'
import { TaskVectors, requireBase } from './task-vectors'
import { WINDOW_CHUNKS } from './ties-core'
import { defineMethod } from './types'

/** mergekit: matrix weights summing below this are replaced by equal weights */
const WEIGHT_SUM_FLOOR = 1e-6
/** mergekit: floor on the sum of the agreeing models' weights that divides the merged delta */
const DIVISOR_FLOOR = 1e-6

export const sce = defineMethod({
  id: 'sce',
  aliases: [],
  label: 'SCE: select, calculate, erase (mergekit)',
  description:
    "Merges fine-tunes of one base in three steps (mergekit sce, from FuseLLM/FuseChat): Select keeps only the select_topk fraction of positions where the models' task vectors (model − base) differ most (largest variance across models; 1 = keep all); Calculate gives each model a weight proportional to the mean square of its selected task vector, so models that changed the tensor more count more; Erase drops, per weight, the deltas whose sign disagrees with the sign of their sum. The result is base + the weighted mean of the remaining deltas. A TIES-like merge without a density to tune.",
  reference: 'https://arxiv.org/abs/2408.07990',
  inputs: {
    min: 1,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ the task vectors are taken against; the result is built on it',
  },
  params: {
    select_topk: {
      type: 'number',
      label: 'select top-k (τ)',
      description:
        'Fraction of the positions with non-zero variance across models that are kept (exactly trunc(τ × count), largest variance first, ties by position). 1 = no selection; 0 = nothing kept (the base).',
      default: 1,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['S'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 8,
  kernel(ctx) {
    const { select_topk } = ctx.params
    const base = requireBase(ctx)
    const n = ctx.numel
    const models = ctx.inputs.length
    if (n === 0) return
    const vectors = new TaskVectors(ctx)
    let scratch = new Float32Array(0)
    /** the population variance across models of each element of a block, in float32 like upstream */
    const variances = (deltas: readonly Float32Array[], length: number): Float32Array => {
      if (scratch.length < length) scratch = new Float32Array(length)
      for (let e = 0; e < length; e++) {
        let sum = 0
        for (let i = 0; i < models; i++) sum += deltas[i]![e]!
        const mean = sum / models
        let square = 0
        for (let i = 0; i < models; i++) square += (deltas[i]![e]! - mean) ** 2
        scratch[e] = square / models
      }
      return scratch
    }
    let cut: DescendingCut = CUT_ALL
    if (select_topk < 1) {
      let nonZero = 0
      vectors.scan(({ deltas, length }) => {
        const v = variances(deltas, length)
        for (let e = 0; e < length; e++) nonZero += +(v[e] !== 0)
      })
      const count = Math.trunc(select_topk * nonZero)
      // nothing selected: every delta is erased and the result is the base
      if (count === 0) return passThrough(ctx, base)
      const rank = cutRank(count, n)
      if (rank !== null) {
        const source: BlockSource = (visit) => vectors.scan(({ deltas, length }) => visit([variances(deltas, length)], length))
        const all = ctx.inputs.map((_, i) => i)
        const sample = (): Float32Array[] => {
          const deltas = vectors.sample(all)
          return [variances(deltas, deltas[0]!.length).slice(0, deltas[0]!.length)]
        }
        const [stat] = selectAbs(ctx.tf, source, n, [{ sequence: 0, rank }], { sample, maxCollected: WINDOW_CHUNKS * ctx.chunkElements })
        cut = cutFromStatistic(count, n, stat ?? null)
      }
    }
    const selected = cut === CUT_ALL ? null : cut
    // Calculate: ωᵢ = mean of the selected δᵢ², normalised to sum 1
    const squares = new Float64Array(models)
    let cursor = selected ? new CutCursor(selected) : null
    vectors.scan(({ deltas, length }) => {
      const v = cursor ? variances(deltas, length) : null
      for (let e = 0; e < length; e++) {
        if (cursor && !cursor.next(magnitudeKey(v![e]!))) continue
        for (let i = 0; i < models; i++) squares[i]! += deltas[i]![e]! ** 2
      }
    })
    const total = squares.reduce((s, x) => s + x / n, 0)
    const weights = squares.map((s) => (total < WEIGHT_SUM_FLOOR ? 1 / models : s / n / total))
    // Erase and merge: the deltas whose sign matches the elected one (sum ≥ 0 → +), weighted mean
    cursor = selected ? new CutCursor(selected) : null
    vectors.map(({ deltas, length, base: b, offset }, out) => {
      const v = cursor ? variances(deltas, length) : null
      for (let e = 0; e < length; e++) {
        if (cursor && !cursor.next(magnitudeKey(v![e]!))) {
          out[offset + e] = b[offset + e]!
          continue
        }
        let sum = 0
        for (let i = 0; i < models; i++) sum += deltas[i]![e]!
        const elected = sum >= 0 ? 1 : -1
        let mixed = 0
        let divisor = 0
        for (let i = 0; i < models; i++) {
          const d = deltas[i]![e]!
          if (Math.sign(d) !== elected) continue
          mixed += weights[i]! * d
          divisor += weights[i]!
        }
        out[offset + e] = b[offset + e]! + mixed / Math.max(divisor, DIVISOR_FLOOR)
      }
    })
  },
})
