import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

/** key fragments supermerger's "self" and "plus random" leave alone (attention outputs, projections, norms) */
export const SELF_UNSCALED = ['to_out', 'proj_out', 'norm']

export const scale = defineMethod({
  id: 'scale',
  aliases: [
    { name: 'passthrough', params: { variant: 'plain' } },
    { name: 'self', params: { variant: 'supermerger_self' } },
  ],
  label: 'Scale / passthrough',
  description:
    'Multiplies one model by a factor: A x scale. scale 1 copies A unchanged (mergekit passthrough, the building block of layer-stacking "frankenmerges"); other values scale a task vector or a whole block (sd-mecha scale). The supermerger_self variant reproduces supermerger\'s "self" mode: keys containing to_out, proj_out or norm are left alone, and a factor of 0 leaves the key unchanged instead of zeroing it.',
  inputs: { min: 1, max: 1, base: 'none', roles: ['model a'] },
  params: {
    scale: {
      type: 'number',
      label: 'scale',
      description: 'The factor: 1 = unchanged (supermerger "self": its alpha).',
      default: 1,
      ui: { min: 0, max: 2, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Whether to follow supermerger\'s "self" key rules.',
      options: [
        { value: 'plain', label: 'every key', description: 'A x scale on every merged key (mergekit passthrough, sd-mecha scale).' },
        {
          value: 'supermerger_self',
          label: 'supermerger "self"',
          description: 'Keys containing to_out, proj_out or norm, and keys whose factor is 0, keep A.',
        },
      ],
      default: 'plain',
    },
  },
  cost: ['E'],
  randomness: 'deterministic',
  chunked: true,
  memoryFactor: 2,
  kernel(ctx) {
    const { scale: factor, variant } = ctx.params
    const keep = factor === 1 || (variant === 'supermerger_self' && (factor === 0 || SELF_UNSCALED.some((part) => ctx.key.includes(part))))
    if (keep) return passThrough(ctx, ctx.inputs[0]!)
    mapElementwise(ctx, (out, [a]) => {
      for (let i = 0; i < out.length; i++) out[i] = a![i]! * factor
    })
  },
})
