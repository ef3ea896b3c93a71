import { describe, expect, it } from 'vitest'
import { syntheticLayout, syntheticValues } from '../../src-main/engine/arch/synthetic'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { isAmalgamError } from '../../src-main/engine/errors'
import { LAYOUTS, layoutHeads, numel } from './support'

const ARCHS = ['sd1', 'sd2', 'sdxl', 'sd3', 'flux'] as const

/** Axes tiny must keep: dimension `axis` of keys matching the pattern (what detection reads). */
const KEPT: readonly [RegExp, number][] = [
  [/middle_block\.1\.transformer_blocks\.0\.attn2\.to_k\.weight$/, 1],
  [/label_emb\.0\.0\.weight$/, 1],
  [/resblocks\.0\.attn\.in_proj_weight$/, 1],
  [/position_embedding\.weight$|positional_embedding$/, 1],
]

describe('syntheticLayout', () => {
  it.each(ARCHS)('%s real: the layout’s required keys with their real shapes and dtypes', (arch) => {
    expect(syntheticLayout(arch, { scale: 'real' })).toEqual(layoutHeads(arch))
  })

  it.each(ARCHS)('%s tiny: same names, same ranks, small dimensions kept, detection dimensions kept', (arch) => {
    const real = layoutHeads(arch)
    const tiny = syntheticLayout(arch, { scale: 'tiny' })
    expect(tiny.map((t) => t.key)).toEqual(real.map((t) => t.key))
    tiny.forEach((t, i) => {
      const r = real[i]!
      expect(t.shape.length).toBe(r.shape.length)
      r.shape.forEach((d, axis) => {
        if (d <= 16) expect(t.shape[axis]).toBe(d)
        else expect(t.shape[axis]).toBeLessThanOrEqual(d)
      })
      for (const [re, axis] of KEPT) if (re.test(t.key)) expect(t.shape[axis], t.key).toBe(r.shape[axis])
    })
  })

  it('a tiny SD1 checkpoint is well under 2 MB of fp16', () => {
    const bytes = syntheticLayout('sd1', { scale: 'tiny' }).reduce((s, t) => s + 2 * numel(t.shape), 0)
    expect(bytes).toBeLessThan(512 * 1024)
  })

  it('variants change the first convolution or drop guidance_in', () => {
    const first = (opts: Parameters<typeof syntheticLayout>[1]): readonly number[] | undefined =>
      syntheticLayout('sd1', opts).find((t) => t.key === 'model.diffusion_model.input_blocks.0.0.weight')?.shape
    expect(first({ scale: 'real', variant: 'inpainting' })).toEqual([320, 9, 3, 3])
    expect(first({ scale: 'real', variant: 'instruct-pix2pix' })).toEqual([320, 8, 3, 3])
    const schnell = syntheticLayout('flux', { scale: 'tiny', variant: 'schnell' })
    expect(schnell.length).toBe(layoutHeads('flux').length - 4)
    expect(schnell.some((t) => t.key.includes('guidance_in'))).toBe(false)
  })

  it('the v_pred marker is the layout’s; optional keys never include the markers', () => {
    const marker = syntheticLayout('sdxl', { scale: 'real', prediction: 'v' }).at(-1)
    const layoutMarker = LAYOUTS.sdxl.keys.find((k) => k.name === 'v_pred')!
    expect(marker).toEqual({ key: layoutMarker.name, dtype: layoutMarker.dtype, shape: layoutMarker.shape })
    const all = syntheticLayout('sdxl', { scale: 'tiny', includeOptional: true }).map((t) => t.key)
    const optional = LAYOUTS.sdxl.keys.filter((k) => k.optional === true).map((k) => k.name)
    expect(all.length).toBe(layoutHeads('sdxl').length + optional.length - 4)
    for (const m of ['v_pred', 'ztsnr', 'edm_vpred.sigma_min', 'edm_vpred.sigma_max']) expect(all).not.toContain(m)
  })

  it('EMA: 688 keys (decay, num_updates and one flattened copy per UNet weight, same shape)', () => {
    const plain = syntheticLayout('sd1', { scale: 'tiny' })
    const withEma = syntheticLayout('sd1', { scale: 'tiny', ema: true })
    const ema = withEma.filter((t) => t.key.startsWith('model_ema.'))
    expect(ema.length).toBe(688)
    expect(withEma.length).toBe(plain.length + 688)
    const shadow = ema.find((t) => t.key === 'model_ema.diffusion_modelinput_blocks00weight')
    expect(shadow?.shape).toEqual(plain.find((t) => t.key === 'model.diffusion_model.input_blocks.0.0.weight')?.shape)
    expect(ema.find((t) => t.key === 'model_ema.num_updates')).toEqual({ key: 'model_ema.num_updates', dtype: 'I32', shape: [] })
  })

  it.each([
    ['flux', { variant: 'inpainting' }, /no inpainting variant/],
    ['sd1', { variant: 'schnell' }, /no schnell variant/],
    ['sd3', { prediction: 'v' }, /no v-prediction marker/],
    ['flux', { ema: true }, /no EMA weights/],
  ] as const)('%s %o is refused', (arch, opts, message) => {
    let error: unknown
    try {
      syntheticLayout(arch, { scale: 'tiny', ...opts })
    } catch (err) {
      error = err
    }
    expect(isAmalgamError(error, 'BAD_ARGUMENT')).toBe(true)
    expect(String(error)).toMatch(message)
  })
})

describe('syntheticValues', () => {
  const stats = (v: Float32Array): { mean: number; std: number } => {
    let sum = 0
    for (const x of v) sum += x
    const mean = sum / v.length
    let sq = 0
    for (const x of v) sq += (x - mean) ** 2
    return { mean, std: Math.sqrt(sq / v.length) }
  }

  it('depends on seed and key only', () => {
    const spec = { key: 'model.diffusion_model.out.2.weight', shape: [4, 320, 3, 3] }
    const a = syntheticValues(spec, 7)
    expect(a.length).toBe(4 * 320 * 9)
    expect(syntheticValues({ ...spec }, 7)).toEqual(a)
    expect(syntheticValues(spec, 8)).not.toEqual(a)
    expect(syntheticValues({ ...spec, key: 'other.weight' }, 7)).not.toEqual(a)
  })

  it('weights ≈ N(0, 0.02), norm scales ≈ 1, biases small', () => {
    const w = stats(syntheticValues({ key: 'x.attn.to_q.weight', shape: [200, 300] }, 1))
    expect(Math.abs(w.mean)).toBeLessThan(0.001)
    expect(w.std).toBeCloseTo(0.02, 3)
    const norm = stats(syntheticValues({ key: 'x.norm1.weight', shape: [20_000] }, 1))
    expect(norm.mean).toBeCloseTo(1, 2)
    const bias = stats(syntheticValues({ key: 'x.attn.in_proj_bias', shape: [20_000] }, 1))
    expect(bias.std).toBeCloseTo(0.002, 3)
    expect(syntheticValues({ key: 'logit_scale', shape: [] }, 1).length).toBe(1)
  })
})

describe('syntheticLlmLayout', () => {
  it('Llama-3-8B shapes give 291 tensors and 8,030,261,248 parameters (llm-layouts.md worked check)', () => {
    const layout = syntheticLlmLayout('llama', { layers: 32, hidden: 4096, intermediate: 14336, vocab: 128256, heads: 32, kvHeads: 8, tied: false })
    expect(layout.length).toBe(291)
    expect(layout.reduce((s, t) => s + numel(t.shape), 0)).toBe(8_030_261_248)
    expect(layout.filter((t) => t.key.startsWith('model.layers.0.')).reduce((s, t) => s + numel(t.shape), 0)).toBe(218_112_000)
  })

  it('qwen2 has 12 tensors per layer (q/k/v biases); tied models have no lm_head', () => {
    const qwen = syntheticLlmLayout('qwen2', { layers: 2, hidden: 16, intermediate: 32, vocab: 50, heads: 4, kvHeads: 2, tied: true })
    expect(qwen.filter((t) => t.key.startsWith('model.layers.1.')).length).toBe(12)
    expect(qwen.find((t) => t.key === 'model.layers.0.self_attn.k_proj.bias')?.shape).toEqual([8])
    expect(qwen.some((t) => t.key === 'lm_head.weight')).toBe(false)
    expect(syntheticLlmLayout('mistral', { layers: 1, hidden: 16, intermediate: 32, vocab: 50, heads: 4, kvHeads: 2, tied: false }).at(-1)?.key).toBe('lm_head.weight')
  })

  it('refuses shapes that cannot exist', () => {
    expect(() => syntheticLlmLayout('llama', { layers: 1, hidden: 10, intermediate: 8, vocab: 8, heads: 4, kvHeads: 4, tied: true })).toThrow(/not a multiple of heads/)
    expect(() => syntheticLlmLayout('llama', { layers: 1, hidden: 8, intermediate: 8, vocab: 8, heads: 4, kvHeads: 3, tied: true })).toThrow(/not a multiple of kvHeads/)
    expect(() => syntheticLlmLayout('llama', { layers: 0, hidden: 8, intermediate: 8, vocab: 8, heads: 4, kvHeads: 4, tied: true })).toThrow(/layers must be a positive integer/)
  })
})
