import { describe, expect, it } from 'vitest'
import { componentOf, componentsOf, SCHEDULER_BUFFERS } from '../../src-main/engine/arch/components'
import { LAYOUTS } from './support'

describe('components', () => {
  it('the scheduler buffers are exactly the layouts’ scheduler keys', () => {
    for (const arch of ['sd1', 'sd2', 'sdxl'] as const) {
      expect([...SCHEDULER_BUFFERS].sort()).toEqual(LAYOUTS[arch].keys.filter((k) => k.component === 'scheduler').map((k) => k.name).sort())
    }
  })

  it('which components each architecture offers the builder', () => {
    expect(componentsOf('sd1')).toEqual(['unet', 'clip_l', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'])
    expect(componentsOf('sd2')).toContain('openclip_h')
    expect(componentsOf('sdxl')).toEqual(['unet', 'clip_l', 'clip_g', 'vae', 'ema', 'scheduler', 'markers', 'leftovers'])
    expect(componentsOf('sd3')).toEqual(['transformer', 'clip_l', 'clip_g', 't5', 'vae', 'scheduler', 'leftovers'])
    expect(componentsOf('flux')).toEqual(['transformer', 'clip_l', 't5', 'vae', 'leftovers'])
    expect(componentsOf('llm')).toEqual(['llm'])
    expect(componentsOf('component', 'vae')).toEqual(['vae'])
  })

  it('markers, EMA (counters and flattened weights), scheduler buffers and training leftovers', () => {
    const sd1 = { architecture: 'sd1' as const, variant: null }
    expect(componentOf(sd1, 'v_pred')).toBe('markers')
    expect(componentOf(sd1, 'ztsnr')).toBe('markers')
    expect(componentOf(sd1, 'edm_vpred.sigma_max')).toBe('markers')
    expect(componentOf(sd1, 'model_ema.decay')).toBe('ema')
    expect(componentOf(sd1, 'model_ema.num_updates')).toBe('ema')
    expect(componentOf(sd1, 'model_ema.diffusion_modelinput_blocks00weight')).toBe('ema')
    expect(componentOf(sd1, 'alphas_cumprod')).toBe('scheduler')
    expect(componentOf({ architecture: 'sd3', variant: 'medium' }, 'model.model_sampling.sigmas')).toBe('scheduler')
    expect(componentOf(sd1, 'logvar')).toBe('leftovers')
    expect(componentOf(sd1, 'model.diffusion_model.input_blocks.0.0.weight')).toBe('unet')
  })

  it('SDXL embedder 0 is CLIP-L in the base model and OpenCLIP bigG in the refiner', () => {
    const key = 'conditioner.embedders.0.model.ln_final.weight'
    expect(componentOf({ architecture: 'sdxl', variant: null }, 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight')).toBe('clip_l')
    expect(componentOf({ architecture: 'sdxl-refiner', variant: null }, key)).toBe('clip_g')
  })

  it('every key of an LLM or a LoRA file is one component', () => {
    expect(componentOf({ architecture: 'llm', variant: null }, 'model.layers.0.mlp.up_proj.weight')).toBe('llm')
    expect(componentOf({ architecture: 'lora', variant: null }, 'lora_unet_x.alpha')).toBe('lora')
  })
})
