import { describe, expect, it } from 'vitest'
import { detectModel } from '../../src-main/engine/arch/detect'
import { LAYOUTS, layoutHeads, numel, type Head } from './support'

/** Amalgam's component id for each layout file's component name. */
const COMPONENT_ID: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  sd1: { unet: 'unet', text_encoder: 'clip_l', vae: 'vae', scheduler: 'scheduler' },
  sd2: { unet: 'unet', text_encoder: 'openclip_h', vae: 'vae', scheduler: 'scheduler' },
  sdxl: { unet: 'unet', text_encoder_l: 'clip_l', text_encoder_g: 'clip_g', vae: 'vae', scheduler: 'scheduler' },
  flux: { transformer: 'transformer', text_encoder_l: 'clip_l', text_encoder_t5: 't5', vae: 'vae' },
}

/** Required keys/params per component, from the layout file's own counts. */
function expectedComponents(arch: 'sd1' | 'sd2' | 'sdxl' | 'flux'): Record<string, { keys: number; params: number }> {
  const out: Record<string, { keys: number; params: number }> = {}
  for (const [name, c] of Object.entries(LAYOUTS[arch].counts.per_component)) {
    if (c.keys > 0) out[COMPONENT_ID[arch]![name]!] = { keys: c.keys, params: c.params }
  }
  return out
}

function componentsOf(heads: readonly Head[]): Record<string, { keys: number; params: number }> {
  return Object.fromEntries(detectModel(heads).components.map((c) => [c.id, { keys: c.keys, params: c.params }]))
}

describe('detection on the reference layouts (real shapes)', () => {
  it('SD1: ldm layout, eps by construction, components as the layout counts them', () => {
    const d = detectModel(layoutHeads('sd1'))
    expect(d).toMatchObject({ architecture: 'sd1', variant: null, layout: 'ldm', predictionType: 'eps', llm: null })
    expect(d.predictionSource).toMatch(/architecture/)
    expect(d.notes).toEqual([])
    expect(componentsOf(layoutHeads('sd1'))).toEqual(expectedComponents('sd1'))
  })

  it('SD1 with the optional keys: the 12 scheduler buffers and position_ids are classified', () => {
    const d = detectModel(layoutHeads('sd1', { optional: true }))
    expect(d.components.find((c) => c.id === 'scheduler')).toEqual({ id: 'scheduler', keys: 12, params: 12_000 })
    expect(d.components.find((c) => c.id === 'clip_l')).toEqual({ id: 'clip_l', keys: 197, params: 123_060_480 + 77 })
  })

  it('SD2: ldm layout, prediction unknown (512-base and 768-v share keys) with a note saying so', () => {
    const d = detectModel(layoutHeads('sd2'))
    expect(d).toMatchObject({ architecture: 'sd2', variant: null, layout: 'ldm', predictionType: 'unknown', predictionSource: null })
    expect(d.notes.join(' ')).toMatch(/768-v/)
    expect(componentsOf(layoutHeads('sd2'))).toEqual(expectedComponents('sd2'))
  })

  it('SDXL: sgm layout, eps without markers, CLIP-L and CLIP-G apart', () => {
    const d = detectModel(layoutHeads('sdxl'))
    expect(d).toMatchObject({ architecture: 'sdxl', variant: null, layout: 'sgm', predictionType: 'eps' })
    expect(d.notes).toEqual([])
    expect(componentsOf(layoutHeads('sdxl'))).toEqual(expectedComponents('sdxl'))
  })

  it('SDXL with every optional key: the marker keys make it v (v_pred) and are their own component', () => {
    const d = detectModel(layoutHeads('sdxl', { optional: true }))
    expect(d).toMatchObject({ architecture: 'sdxl', predictionType: 'v', predictionSource: 'marker key v_pred' })
    expect(d.notes.join(' ')).toMatch(/ztsnr/)
    expect(d.components.find((c) => c.id === 'markers')).toEqual({ id: 'markers', keys: 4, params: 2 })
  })

  it('SD3 medium: 24 joint blocks, comfy layout, flow; model_sampling.sigmas is the scheduler (491 MMDiT keys per the layout notes)', () => {
    const d = detectModel(layoutHeads('sd3'))
    expect(d).toMatchObject({ architecture: 'sd3', variant: 'medium', layout: 'comfy', predictionType: 'flow', depth: { jointBlocks: 24 } })
    const c = componentsOf(layoutHeads('sd3'))
    const perComponent = LAYOUTS.sd3.counts.per_component
    expect(c.transformer).toEqual({ keys: 491, params: perComponent.transformer!.params - 1000 })
    expect(c.scheduler).toEqual({ keys: 1, params: 1000 })
    expect(c.clip_l).toEqual({ keys: perComponent.text_encoder_l!.keys, params: perComponent.text_encoder_l!.params })
    expect(c.clip_g).toEqual({ keys: perComponent.text_encoder_g!.keys, params: perComponent.text_encoder_g!.params })
    expect(c.t5).toEqual({ keys: perComponent.text_encoder_t5!.keys, params: perComponent.text_encoder_t5!.params })
    expect(c.vae).toEqual({ keys: perComponent.vae!.keys, params: perComponent.vae!.params })
  })

  it('Flux dev (ComfyUI all-in-one): comfy layout, flow, components as the layout counts them', () => {
    const d = detectModel(layoutHeads('flux'))
    expect(d).toMatchObject({ architecture: 'flux', variant: 'dev', layout: 'comfy', predictionType: 'flow', keyStyle: { bareTransformer: false } })
    expect(componentsOf(layoutHeads('flux'))).toEqual(expectedComponents('flux'))
  })

  it('Flux dev as BFL releases it (bare names): 780 keys, 11,901,408,320 params, bfl layout', () => {
    const bare = LAYOUTS.flux.keys.filter((k) => k.aliases !== undefined).map((k) => ({ key: k.aliases![0]!, dtype: 'BF16' as const, shape: k.shape }))
    const d = detectModel(bare)
    expect(d).toMatchObject({ architecture: 'flux', variant: 'dev', layout: 'bfl', keyStyle: { bareTransformer: true } })
    expect(d.components).toEqual([{ id: 'transformer', keys: 780, params: 11_901_408_320 }])
  })

  it('Flux schnell lacks guidance_in (4 keys): 776 transformer keys', () => {
    const heads = layoutHeads('flux').filter((h) => !h.key.includes('guidance_in'))
    const d = detectModel(heads)
    expect(d.variant).toBe('schnell')
    expect(d.components.find((c) => c.id === 'transformer')?.keys).toBe(776)
  })

  it('old SD1 files without the text_model level are SD1 with legacy CLIP names', () => {
    const heads = LAYOUTS.sd1.keys.filter((k) => k.optional !== true).map((k) => ({ key: k.aliases?.[0] ?? k.name, dtype: 'F16' as const, shape: k.shape }))
    expect(heads.some((h) => h.key.startsWith('cond_stage_model.transformer.embeddings.'))).toBe(true)
    const d = detectModel(heads)
    expect(d).toMatchObject({ architecture: 'sd1', keyStyle: { legacyClipNames: true } })
    expect(d.components.find((c) => c.id === 'clip_l')?.keys).toBe(196)
  })

  it('SD3 transformer without the model.diffusion_model. prefix: bare layout', () => {
    const heads = layoutHeads('sd3')
      .filter((h) => h.key.startsWith('model.diffusion_model.'))
      .map((h) => ({ ...h, key: h.key.slice('model.diffusion_model.'.length) }))
    const d = detectModel(heads)
    expect(d).toMatchObject({ architecture: 'sd3', variant: 'medium', layout: 'bare', keyStyle: { bareTransformer: true } })
    expect(d.components).toEqual([{ id: 'transformer', keys: 491, params: heads.reduce((s, h) => s + numel(h.shape), 0) }])
  })
})

describe('prediction type evidence', () => {
  const sd2 = layoutHeads('sd2')
  const vYaml = 'model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n  params:\n    parameterization: "v"\n    linear_start: 0.00085\n'
  const epsYaml = 'model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n  params:\n    linear_start: 0.00085\n'

  it('an A1111 sidecar .yaml with parameterization "v" makes SD2 v', () => {
    expect(detectModel(sd2, { sidecarYaml: vYaml })).toMatchObject({ predictionType: 'v', predictionSource: 'sidecar .yaml (parameterization: v)' })
  })

  it('a sidecar .yaml without parameterization is the LDM default, eps', () => {
    const d = detectModel(sd2, { sidecarYaml: epsYaml })
    expect(d.predictionType).toBe('eps')
    expect(d.predictionSource).toMatch(/sidecar/)
  })

  it('an unreadable sidecar is ignored with a note', () => {
    const d = detectModel(sd2, { sidecarYaml: 'model: [unclosed' })
    expect(d.predictionType).toBe('unknown')
    expect(d.notes.join(' ')).toMatch(/not valid YAML/)
  })

  it('metadata modelspec.prediction_type and modelspec.architecture are evidence', () => {
    expect(detectModel(sd2, { metadata: { 'modelspec.prediction_type': 'v' } }).predictionType).toBe('v')
    expect(detectModel(sd2, { metadata: { 'modelspec.prediction_type': 'epsilon' } }).predictionType).toBe('eps')
    expect(detectModel(sd2, { metadata: { 'modelspec.architecture': 'stable-diffusion-v2-768-v' } })).toMatchObject({ predictionType: 'v', predictionSource: expect.stringMatching(/modelspec\.architecture/) })
  })

  it('marker keys beat a sidecar .yaml that disagrees, and the conflict is noted', () => {
    const heads = [...sd2, { key: 'v_pred', dtype: 'I64' as const, shape: [0] }]
    const d = detectModel(heads, { sidecarYaml: epsYaml })
    expect(d).toMatchObject({ predictionType: 'v', predictionSource: 'marker key v_pred' })
    expect(d.notes.join(' ')).toMatch(/says eps/)
  })

  it('a v_pred marker makes even an SD1 file v; edm_vpred markers alone mean v; ztsnr alone is only a note', () => {
    expect(detectModel([...layoutHeads('sd1'), { key: 'v_pred', dtype: 'I64', shape: [0] }]).predictionType).toBe('v')
    const sdxl = layoutHeads('sdxl')
    expect(detectModel([...sdxl, { key: 'edm_vpred.sigma_min', dtype: 'F16', shape: [] }, { key: 'edm_vpred.sigma_max', dtype: 'F16', shape: [] }]).predictionSource).toMatch(/edm_vpred/)
    const ztsnr = detectModel([...sdxl, { key: 'ztsnr', dtype: 'I64', shape: [0] }])
    expect(ztsnr.predictionType).toBe('eps')
    expect(ztsnr.notes.join(' ')).toMatch(/zero terminal SNR/)
  })

  it('flow architectures stay flow whatever the metadata claims', () => {
    const d = detectModel(layoutHeads('flux'), { metadata: { 'modelspec.prediction_type': 'v' } })
    expect(d.predictionType).toBe('flow')
    expect(d.notes.join(' ')).toMatch(/says v/)
  })
})
