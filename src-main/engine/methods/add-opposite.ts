import { mapElementwise, passThrough } from './kernel-helpers'
import { requireBase } from './task-vectors'
import { defineMethod } from './types'

export const addOpposite = defineMethod({
  id: 'add_opposite',
  aliases: [
    { name: 'add_strict_opposite', params: { variant: 'strict' } },
    { name: 'clamped_add_opposite', params: { variant: 'strict' } },
  ],
  label: 'Add opposite',
  description:
    "Adds B's difference from C to A mostly where A and B disagree (sd-mecha add_opposite): each weight moves by alpha x w x (B - C), with w large where A and B lie on opposite sides of C and small where they moved together. The strict variant (sd-mecha add_strict_opposite, formerly clamped_add_opposite) adds nothing at all where A and B moved in the same direction from C. Use it to bring in what B learned that A lacks, without doubling what both already learned.",
  reference: 'https://github.com/ljleb/sd-mecha/blob/main/sd_mecha/extensions/builtin/merge_methods/linear.py',
  inputs: {
    min: 2,
    max: 2,
    base: 'required',
    roles: ['model a (the result is built on it)', 'model b (its difference from c is added)'],
    baseRole: 'c, the common ancestor of a and b',
  },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha',
      description: 'Strength of the added difference: 0 = A.',
      default: 1,
      ui: { min: -1, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'How the per-weight factor w is computed.',
      options: [
        {
          value: 'opposite',
          label: 'add_opposite',
          description: 'w = 2|A - B| / (|A - B| + |A + B - 2C|): 2 where A and B are on opposite sides of C at equal distance, 0 where A = B.',
        },
        {
          value: 'strict',
          label: 'add_strict_opposite',
          description: 'w = 2 max((C - A)(B - C) / max(|A - C|, |B - C|)^2, 0): non-zero only where A and B moved in opposite directions from C.',
        },
      ],
      default: 'opposite',
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, variant } = ctx.params
    requireBase(ctx)
    if (alpha === 0) return passThrough(ctx, ctx.inputs[0]!)
    const weight = variant === 'strict' ? strictOppositeWeight : oppositeWeight
    mapElementwise(ctx, (out, [a, b], c) => {
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        const y = b![i]!
        const z = c![i]!
        const d = y - z
        // d == 0 keeps A bit for bit (x + 0 would turn -0 into +0)
        out[i] = d === 0 ? x : x + alpha * weight(x, y, z) * d
      }
    })
  },
})

/** 2|A − B| / (|A − B| + |A + B − 2C|), 0/0 (and any NaN) → 0 as upstream's nan_to_num */
function oppositeWeight(x: number, y: number, z: number): number {
  const apart = Math.abs(x - y)
  const w = (2 * apart) / (apart + Math.abs(x + y - 2 * z))
  return Number.isNaN(w) ? 0 : w
}

/** 2·max((C − A)(B − C) / τ², 0) with τ = max(|A − C|, |B − C|); NaN → 0 (both ≤ 2 by construction, so no inf arises) */
function strictOppositeWeight(x: number, y: number, z: number): number {
  const tau = Math.max(Math.abs(x - z), Math.abs(y - z))
  const r = ((z - x) * (y - z)) / (tau * tau)
  return Number.isNaN(r) ? 0 : 2 * Math.max(r, 0)
}
