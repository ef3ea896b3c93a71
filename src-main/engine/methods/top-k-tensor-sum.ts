import { selectAbs } from '../compute/selection'
import { stableArgsort } from '../compute/argsort'
import { ratioToRegion } from './region'
import { defineMethod } from './types'

export const topKTensorSum = defineMethod({
  id: 'top_k_tensor_sum',
  aliases: [],
  label: 'Top-k tensor sum (redistribution)',
  description:
    "Keeps A's values but arranges them in B's order (sd-mecha / meh top_k_tensor_sum): A's values are sorted, and the weight that is the j-th smallest in B receives A's j-th smallest value. Only A's values whose magnitude falls in the band given by width and offset (fractions of the magnitude ranking, wrapping past the end) are moved; the others stay where they are in A. The default band (width 1) moves all of them: A's value distribution with B's ranking. Use it to transplant B's structure while keeping A's statistics.",
  reference: 'https://github.com/ljleb/sd-mecha/blob/main/sd_mecha/extensions/builtin/merge_methods/slicing.py',
  inputs: { min: 2, max: 2, base: 'none', roles: ['model a (its values are kept)', 'model b (its ranking is used)'] },
  params: {
    width: {
      type: 'number',
      label: 'width (alpha)',
      description: "Size of the band of A's magnitude ranking that is redistributed, as a fraction of the weights: 1 = all, 0 = none (meh alpha).",
      default: 1,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    offset: {
      type: 'number',
      label: 'offset (beta)',
      description: 'Where the band starts in the magnitude ranking, as a fraction of the weights; a band running past the end wraps around (meh beta).',
      default: 0,
      ui: { min: 0, max: 1, step: 0.01 },
      perBlock: true,
      perModel: false,
    },
    variant: {
      type: 'enum',
      label: 'variant',
      description: 'Which upstream tool\'s band edge to follow.',
      options: [
        { value: 'sd_mecha', label: 'sd-mecha', description: 'Magnitudes from the lower threshold up to the upper one, both included.' },
        { value: 'meh', label: 'meh', description: 'The lower threshold itself is excluded (meh compares with <).' },
      ],
      default: 'sd_mecha',
    },
  },
  cost: ['S'],
  randomness: 'deterministic',
  chunked: false,
  // A, B, A sorted, the output, and four index/key arrays of the radix argsort
  memoryFactor: 8,
  kernel(ctx) {
    const { width, offset, variant } = ctx.params
    const n = ctx.numel
    if (n === 0) return
    const a = ctx.inputs[0]!.readAll()
    const order = stableArgsort(ctx.inputs[1]!.readAll())
    const sorted = a.slice().sort()
    const { start, end, inverted } = ratioToRegion(width, offset, n)
    // τ = the rank-th smallest |A| (1-based), −1 for rank ≤ 0 so that the band starts at the smallest
    const ranks = [start, end].filter((rank) => rank > 0)
    const found = selectAbs(ctx.tf, (visit) => visit([a], n), n, ranks.map((rank) => ({ sequence: 0, rank })))
    const [low, high] = [start, end].map((rank) => (rank > 0 ? found[ranks.indexOf(rank)]!.value : -1)) as [number, number]
    const out = new Float32Array(n)
    for (let j = 0; j < n; j++) {
      const magnitude = Math.abs(sorted[j]!)
      const inBand = (variant === 'meh' ? low < magnitude : low <= magnitude) && magnitude <= high
      const i = order[j]!
      out[i] = inBand !== inverted ? sorted[j]! : a[i]!
    }
    ctx.out.write(0, out)
  },
})
