import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { detectModel } from '../../src-main/engine/arch/detect'
import { canonicalKey, styledKey } from '../../src-main/engine/arch/keys'
import { LAYOUTS, layoutHeads } from './support'

describe('key normalisation', () => {
  const fluxAliases = LAYOUTS.flux.keys.filter((k) => k.aliases !== undefined)
  const bflFile = detectModel(fluxAliases.map((k) => ({ key: k.aliases![0]!, dtype: 'BF16', shape: k.shape })))
  const comfyFile = detectModel(layoutHeads('flux'))

  it('Flux bare BFL names and model.diffusion_model. names line up', () => {
    expect(fluxAliases.length).toBe(780)
    for (const k of fluxAliases) {
      expect(canonicalKey(bflFile, k.aliases![0]!)).toBe(k.name)
      expect(canonicalKey(comfyFile, k.name)).toBe(k.name)
      expect(styledKey(bflFile, k.name)).toBe(k.aliases![0])
      expect(styledKey(comfyFile, k.name)).toBe(k.name)
    }
  })

  it('keys outside the Flux transformer are left alone', () => {
    for (const key of ['text_encoders.clip_l.transformer.text_model.final_layer_norm.weight', 'vae.decoder.conv_in.weight']) {
      expect(canonicalKey(bflFile, key)).toBe(key)
      expect(styledKey(bflFile, key)).toBe(key)
    }
  })

  it('SD3 with and without the prefix line up, pos_embed (no dot) included', () => {
    const prefixed = layoutHeads('sd3').filter((h) => h.key.startsWith('model.diffusion_model.'))
    const bareFile = detectModel(prefixed.map((h) => ({ ...h, key: h.key.slice('model.diffusion_model.'.length) })))
    expect(canonicalKey(bareFile, 'pos_embed')).toBe('model.diffusion_model.pos_embed')
    for (const h of prefixed) {
      const bare = h.key.slice('model.diffusion_model.'.length)
      expect(canonicalKey(bareFile, bare)).toBe(h.key)
      expect(styledKey(bareFile, h.key)).toBe(bare)
    }
    expect(styledKey(bareFile, 'model.model_sampling.sigmas')).toBe('model.model_sampling.sigmas')
  })

  it('old SD1 CLIP names gain the text_model level, and are written back without it', () => {
    const aliased = LAYOUTS.sd1.keys.filter((k) => k.aliases !== undefined)
    expect(aliased.length).toBe(197)
    const legacy = detectModel(layoutHeads('sd1').map((h) => ({ ...h, key: LAYOUTS.sd1.keys.find((k) => k.name === h.key)?.aliases?.[0] ?? h.key })))
    const modern = detectModel(layoutHeads('sd1'))
    for (const k of aliased) {
      expect(canonicalKey(legacy, k.aliases![0]!)).toBe(k.name)
      expect(styledKey(legacy, k.name)).toBe(k.aliases![0])
      expect(styledKey(modern, k.name)).toBe(k.name)
    }
  })

  it('canonicalKey is idempotent and styledKey inverts it on the file style (property)', () => {
    const names = [...fluxAliases.map((k) => k.aliases![0]!), ...fluxAliases.map((k) => k.name), 'vae.encoder.conv_in.weight', 'text_encoders.t5xxl.transformer.shared.weight']
    fc.assert(
      fc.property(fc.constantFrom(...names), (key) => {
        const canonical = canonicalKey(bflFile, key)
        expect(canonicalKey(bflFile, canonical)).toBe(canonical)
        expect(canonicalKey(bflFile, styledKey(bflFile, canonical))).toBe(canonical)
      }),
    )
  })
})
