import { mapElementwise, passThrough } from './kernel-helpers'
import { defineMethod } from './types'

export const powerUp = defineMethod({
  id: 'power_up',
  aliases: [{ name: 'dare_single', params: { variant: 'paper' } }],
  label: 'Power-up (single-model DARE)',
  description:
    "DARE for one model: B's difference from A is randomly thinned, rescaled and added to A with strength beta; the mask is seeded per key. The untitled variant reproduces untitledmerger's Power-up exactly: despite its \"dropout rate\" label, alpha is the share of the difference KEPT, and the kept part is divided by 1 - alpha, so on average the result moves alpha / (1 - alpha) times the full difference (9x at 0.9). The paper variant (dare_single) is DARE as published: alpha is the drop probability and the rescale makes the average result A + beta (B - A).",
  reference: 'https://arxiv.org/abs/2311.03099',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (the result is built on it)', 'model b (its difference from a is thinned and added)'] },
  params: {
    alpha: {
      type: 'number',
      label: 'alpha (dropout rate)',
      description: 'untitled: the probability that a weight of the difference is kept; paper: the probability that it is dropped. Either way the kept weights are divided by 1 - alpha.',
      default: 0.5,
      min: 0,
      max: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    beta: {
      type: 'number',
      label: 'beta (addition multiplier)',
      description: 'Strength of the added difference: 0 = A.',
      default: 1,
      ui: { min: -1, max: 4, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Whether alpha keeps (untitledmerger as shipped) or drops (DARE paper) the weights.',
      options: [
        {
          value: 'untitled',
          label: 'untitledmerger Power-up',
          description: 'Keeps each weight with probability alpha and divides by 1 - alpha; alpha 1 keeps all without dividing (the Ktiseos fork\'s fix of the division by zero).',
        },
        {
          value: 'paper',
          label: 'DARE paper (dare_single)',
          description: 'Drops each weight with probability alpha and divides the kept ones by 1 - alpha: unbiased. alpha 1 drops everything.',
        },
      ],
      default: 'untitled',
    },
  },
  cost: ['E'],
  randomness: 'seeded',
  chunked: true,
  memoryFactor: 4,
  kernel(ctx) {
    const { alpha, beta, variant } = ctx.params
    const keep = variant === 'untitled' ? alpha : 1 - alpha
    if (beta === 0 || keep === 0) return passThrough(ctx, ctx.inputs[0]!)
    // keep = 1 (nothing dropped) needs no rescale; untitled would divide by zero at alpha = 1
    const scale = keep === 1 ? beta : beta / (1 - alpha)
    // stream 1 = model b, consumed in element order: the mask does not depend on the chunk size
    const rng = ctx.rng(1)
    let mask = new Float32Array(0)
    mapElementwise(ctx, (out, [a, b]) => {
      if (mask.length < out.length) mask = new Float32Array(out.length)
      const kept = rng.bernoulli(mask.subarray(0, out.length), keep)
      for (let i = 0; i < out.length; i++) {
        const x = a![i]!
        out[i] = kept[i] === 0 ? x : x + scale * (b![i]! - x)
      }
    })
  },
})
