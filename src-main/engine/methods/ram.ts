import { passThrough } from './kernel-helpers'
import { TaskVectors, requireBase } from './task-vectors'
import { defineMethod } from './types'

export const ram = defineMethod({
  id: 'ram',
  aliases: [{ name: 'ramplus_tl', params: { variant: 'ramplus_tl' } }],
  label: 'Reinforced Agent Merging (RAM / RAM+)',
  description:
    'Merges fine-tunes of one base without diluting what only one of them learned: a weight counts as changed by a model when its task vector (model − base) exceeds epsilon in magnitude. Weights changed by one model keep that change unscaled, weights changed by several get the mean of their changes, unchanged weights stay at the base. Variant ramplus_tl (RAM+, tensor-local) also boosts each model\'s unique changes by 1 + r·min(ρ, alpha), where ρ is that model\'s count of shared changes over its count of unique ones in the tensor. Suited to fine-tunes that touched mostly different weights (RL-tuned agents, sparse updates).',
  reference: 'https://arxiv.org/abs/2601.13572',
  inputs: {
    min: 1,
    max: null,
    base: 'required',
    roles: ['fine-tune a (keys not merged come from it)', 'more fine-tunes of the same base (b, c, …)'],
    baseRole: 'the common base θ₀ the task vectors are taken against; the result is built on it',
  },
  params: {
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'RAM, or RAM+ with the tensor-local boost of unique changes (mergekit ramplus_tl).',
      options: [
        { value: 'ram', label: 'RAM', description: 'Unique changes kept as they are, shared changes averaged.' },
        {
          value: 'ramplus_tl',
          label: 'RAM+ (tensor-local)',
          description: "Unique changes of each model scaled by 1 + r·clip(shared/unique, 0, alpha), counted over the tensor.",
        },
      ],
      default: 'ram',
    },
    epsilon: {
      type: 'number',
      label: 'epsilon',
      description: 'A weight counts as changed by a model when |model − base| is above this.',
      default: 1e-5,
      min: 0,
      ui: { min: 0, max: 1e-3, step: 1e-6 },
      perBlock: true,
      perModel: false,
    },
    r: {
      type: 'number',
      label: 'r (RAM+ boost)',
      description: 'RAM+ only: strength of the boost of unique changes.',
      default: 0.1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    alpha: {
      type: 'number',
      label: 'alpha (RAM+ cap)',
      description: 'RAM+ only: cap on the shared/unique ratio that drives the boost.',
      default: 0.2,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { variant, epsilon, r, alpha } = ctx.params
    const base = requireBase(ctx)
    const models = ctx.inputs.length
    if (models === 0) return passThrough(ctx, base)
    const vectors = new TaskVectors(ctx)
    // λᵢ multiplies model i's unique changes: 1 for RAM, from a counting pass for RAM+
    const boost = new Float64Array(models).fill(1)
    if (variant === 'ramplus_tl') {
      const shared = new Float64Array(models)
      const unique = new Float64Array(models)
      vectors.scan(({ length, deltas }) => {
        for (let e = 0; e < length; e++) {
          let count = 0
          for (let i = 0; i < models; i++) count += +(Math.abs(deltas[i]![e]!) > epsilon)
          if (count === 0) continue
          const counts = count === 1 ? unique : shared
          for (let i = 0; i < models; i++) counts[i]! += +(Math.abs(deltas[i]![e]!) > epsilon)
        }
      })
      for (let i = 0; i < models; i++) {
        // upstream floors the unique count at epsilon, so a model with no unique change gets the full cap
        const rho = shared[i]! / Math.max(unique[i]!, epsilon)
        boost[i] = 1 + r * Math.min(Math.max(rho, 0), alpha)
      }
    }
    vectors.map(({ length, deltas, base: b, offset }, out) => {
      for (let e = 0; e < length; e++) {
        let count = 0
        let sum = 0
        let boosted = 0
        for (let i = 0; i < models; i++) {
          const d = deltas[i]![e]!
          if (Math.abs(d) > epsilon) {
            count++
            sum += d
            boosted += boost[i]! * d
          }
        }
        out[offset + e] = b[offset + e]! + (count === 1 ? boosted : count > 1 ? sum / count : 0)
      }
    })
  },
})
