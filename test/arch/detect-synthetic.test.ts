import { describe, expect, it } from 'vitest'
import { detectModel } from '../../src-main/engine/arch/detect'
import { alignment } from '../../src-main/engine/arch/keys'
import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { cut, type Head } from './support'

const tiny = (arch: 'sd1' | 'sd2' | 'sdxl' | 'sd3' | 'flux', opts: Parameters<typeof syntheticLayout>[1] = { scale: 'tiny' }): Head[] => syntheticLayout(arch, opts)

function withShape(heads: readonly Head[], key: string, shape: readonly number[]): Head[] {
  if (!heads.some((h) => h.key === key)) throw new Error(`no ${key}`)
  return heads.map((h) => (h.key === key ? { ...h, shape } : h))
}

describe('detection on tiny synthetic checkpoints', () => {
  it.each(['sd1', 'sd2', 'sdxl'] as const)('%s: the tiny layout keeps what detection reads', (arch) => {
    const d = detectModel(tiny(arch))
    expect(d).toMatchObject({ architecture: arch, variant: null })
    expect(d.notes.filter((n) => n.startsWith('shape check'))).toEqual([])
  })

  it.each([
    ['sd1', 'inpainting'],
    ['sd2', 'instruct-pix2pix'],
    ['sdxl', 'inpainting'],
    ['sdxl', 'instruct-pix2pix'],
  ] as const)('%s %s comes from the first convolution', (arch, variant) => {
    expect(detectModel(tiny(arch, { scale: 'tiny', variant })).variant).toBe(variant)
  })

  it('a first convolution with an odd channel count is noted', () => {
    const heads = withShape(tiny('sd1'), 'model.diffusion_model.input_blocks.0.0.weight', [3, 5, 3, 3])
    const d = detectModel(heads)
    expect(d.variant).toBeNull()
    expect(d.notes.join(' ')).toMatch(/5 channels/)
  })

  it('the v_pred marker of a synthetic checkpoint makes it v', () => {
    expect(detectModel(tiny('sd2', { scale: 'tiny', prediction: 'v' }))).toMatchObject({ architecture: 'sd2', predictionType: 'v', predictionSource: 'marker key v_pred' })
  })

  it('flux schnell vs dev', () => {
    expect(detectModel(tiny('flux')).variant).toBe('dev')
    expect(detectModel(tiny('flux', { scale: 'tiny', variant: 'schnell' })).variant).toBe('schnell')
  })

  it('flux with bare BFL names', () => {
    const bare = cut(tiny('flux'), 'model.diffusion_model.')
    expect(detectModel(bare)).toMatchObject({ architecture: 'flux', variant: 'dev', layout: 'bfl', predictionType: 'flow' })
  })

  it('SD3.5 large: 38 joint blocks', () => {
    const heads = tiny('sd3')
    const block = (i: number): Head[] => cut(heads, `model.diffusion_model.joint_blocks.${i}.`)
    const rest = heads.filter((h) => !h.key.includes('.joint_blocks.'))
    const joint: Head[] = []
    // blocks 0..36 like a full block, the last one like SD3's last (context pre-only) block
    for (let i = 0; i < 37; i++) joint.push(...block(0).map((h) => ({ ...h, key: `model.diffusion_model.joint_blocks.${i}.${h.key}` })))
    joint.push(...block(23).map((h) => ({ ...h, key: `model.diffusion_model.joint_blocks.37.${h.key}` })))
    expect(detectModel([...rest, ...joint])).toMatchObject({ architecture: 'sd3', variant: 'large', depth: { jointBlocks: 38 } })
  })

  it('SD3.5 medium: 24 joint blocks with a second image attention (MMDiT-X)', () => {
    const heads = tiny('sd3')
    const attn2 = heads
      .filter((h) => h.key.includes('.x_block.attn.'))
      .map((h) => ({ ...h, key: h.key.replace('.x_block.attn.', '.x_block.attn2.') }))
    expect(attn2.length).toBeGreaterThan(0)
    expect(detectModel([...heads, ...attn2]).variant).toBe('3.5-medium')
  })

  it('an SD3 with an unexpected depth has no variant and a note', () => {
    const heads = tiny('sd3').filter((h) => !/\.joint_blocks\.(1[2-9]|2\d)\./.test(h.key))
    const d = detectModel(heads)
    expect(d).toMatchObject({ architecture: 'sd3', variant: null, depth: { jointBlocks: 12 } })
    expect(d.notes.join(' ')).toMatch(/12 joint blocks/)
  })

  it('SDXL refiner: OpenCLIP bigG as embedder 0, label_emb takes 2560', () => {
    const xl = tiny('sdxl')
    const unet = withShape(
      withShape(
        xl.filter((h) => h.key.startsWith('model.diffusion_model.') || h.key.startsWith('first_stage_model.')),
        'model.diffusion_model.label_emb.0.0.weight',
        [12, 2560],
      ),
      'model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight',
      [10, 1280],
    )
    const refiner = [...unet, ...cut(xl, 'conditioner.embedders.1.', 'conditioner.embedders.0.')]
    const d = detectModel(refiner)
    expect(d).toMatchObject({ architecture: 'sdxl-refiner', layout: 'sgm', predictionType: 'eps' })
    expect(d.notes).toEqual([])
    expect(d.components.map((c) => c.id)).toEqual(['unet', 'clip_g', 'vae'])
  })

  it('SDXL whose label_emb width does not fit gets a shape-check note', () => {
    const heads = withShape(tiny('sdxl'), 'model.diffusion_model.label_emb.0.0.weight', [10, 2560])
    const d = detectModel(heads)
    expect(d.architecture).toBe('sdxl')
    expect(d.notes.join(' ')).toMatch(/label_emb takes 2560 inputs, sdxl takes 2816/)
  })

  it('SD1 keys with an SD2-wide UNet: detected by the text encoder, the shapes are noted', () => {
    const heads = withShape(tiny('sd1'), 'model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight', [10, 1024])
    const d = detectModel(heads)
    expect(d.architecture).toBe('sd1')
    expect(d.notes.join(' ')).toMatch(/cross-attention width is 1024, sd1 has 768/)
  })

  it.each(['sd1', 'sd2', 'sdxl'] as const)('%s UNet only: the family from shapes, variant unet-only', (arch) => {
    const unet = tiny(arch).filter((h) => h.key.startsWith('model.diffusion_model.'))
    expect(detectModel(unet)).toMatchObject({ architecture: arch, variant: 'unet-only', components: [{ id: 'unet' }] })
  })

  it('an inpainting UNet alone keeps the inpainting variant and says it is UNet only', () => {
    const unet = tiny('sd1', { scale: 'tiny', variant: 'inpainting' }).filter((h) => h.key.startsWith('model.diffusion_model.'))
    const d = detectModel(unet)
    expect(d.variant).toBe('inpainting')
    expect(d.notes.join(' ')).toMatch(/UNet only/)
  })

  it('a UNet and VAE without text encoder is not called unet-only', () => {
    const heads = tiny('sd1').filter((h) => !h.key.startsWith('cond_stage_model.'))
    const d = detectModel(heads)
    expect(d).toMatchObject({ architecture: 'sd1', variant: null })
    expect(d.notes.join(' ')).toMatch(/no text encoder/)
  })

  it('a UNet whose context width fits no family is unknown', () => {
    const unet = withShape(
      tiny('sd1').filter((h) => h.key.startsWith('model.diffusion_model.')),
      'model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight',
      [10, 640],
    )
    const d = detectModel(unet)
    expect(d.architecture).toBe('unknown')
    expect(d.notes.join(' ')).toMatch(/640/)
  })
})

describe('lone components', () => {
  it('VAE alone (ldm names without prefix): 4-channel', () => {
    const d = detectModel(cut(tiny('sd1'), 'first_stage_model.'))
    expect(d).toMatchObject({ architecture: 'component', variant: 'vae', layout: 'component', predictionType: 'unknown' })
    expect(d.notes.join(' ')).toMatch(/4-channel/)
    expect(d.components.map((c) => c.id)).toEqual(['vae'])
  })

  it('the Flux VAE alone: 16-channel', () => {
    const d = detectModel(cut(tiny('flux'), 'vae.'))
    expect(d.variant).toBe('vae')
    expect(d.notes.join(' ')).toMatch(/16-channel/)
  })

  it('CLIP text encoders by width, in either naming', () => {
    expect(detectModel(cut(tiny('sd1'), 'cond_stage_model.transformer.')).variant).toBe('clip_l')
    expect(detectModel(cut(tiny('sd2'), 'cond_stage_model.model.')).variant).toBe('openclip_h')
    expect(detectModel(cut(tiny('sdxl'), 'conditioner.embedders.1.model.')).variant).toBe('clip_g')
    expect(detectModel(cut(tiny('sd3'), 'text_encoders.clip_g.', 'text_encoders.clip_g.')).variant).toBe('clip_g')
  })

  it('T5 encoder alone', () => {
    expect(detectModel(cut(tiny('flux'), 'text_encoders.t5xxl.transformer.'))).toMatchObject({ architecture: 'component', variant: 't5' })
  })

  it('CLIP-L and T5 together are not one component', () => {
    const heads = [...cut(tiny('flux'), 'text_encoders.clip_l.transformer.'), ...cut(tiny('flux'), 'text_encoders.t5xxl.transformer.')]
    const d = detectModel(heads)
    expect(d.architecture).toBe('unknown')
    expect(d.notes.join(' ')).toMatch(/several components/)
  })
})

describe('other files', () => {
  it.each([
    ['kohya', ['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', 'lora_unet_down_blocks_0_attentions_0_proj_in.alpha']],
    ['peft', ['unet.down_blocks.0.attentions.0.proj_in.lora_A.weight', 'unet.down_blocks.0.attentions.0.proj_in.lora_B.weight']],
    ['loha', ['lora_te1_text_model_encoder_layers_0_mlp_fc1.hada_w1_a', 'lora_te1_text_model_encoder_layers_0_mlp_fc1.hada_w1_b']],
  ])('LoRA-like key sets (%s) are lora', (_, keys) => {
    const d = detectModel(keys.map((key) => ({ key, dtype: 'F16', shape: [4, 4] })))
    expect(d).toMatchObject({ architecture: 'lora', predictionType: 'unknown', components: [{ id: 'lora', keys: keys.length }] })
  })

  it('llama without config.json: family llama (noted as possibly mistral), depth and widths from keys', () => {
    const heads = syntheticLlmLayout('llama', { layers: 4, hidden: 32, intermediate: 64, vocab: 100, heads: 4, kvHeads: 2, tied: false })
    const d = detectModel(heads)
    expect(d).toMatchObject({ architecture: 'llm', layout: 'hf', depth: { layers: 4 }, llm: { family: 'llama', layers: 4, hiddenSize: 32, vocabSize: 100, tiedEmbeddings: false } })
    expect(d.notes.join(' ')).toMatch(/mistral/)
    expect(d.components).toEqual([{ id: 'llm', keys: heads.length, params: heads.reduce((s, h) => s + h.shape.reduce((a, b) => a * b, 1), 0) }])
  })

  it('mistral needs config.json; config widths win', () => {
    const heads = syntheticLlmLayout('mistral', { layers: 2, hidden: 32, intermediate: 64, vocab: 100, heads: 4, kvHeads: 4, tied: true })
    const d = detectModel(heads, { hfConfig: { architectures: ['MistralForCausalLM'], hidden_size: 32, vocab_size: 96, num_hidden_layers: 2 } })
    expect(d.llm).toEqual({ family: 'mistral', layers: 2, hiddenSize: 32, vocabSize: 96, tiedEmbeddings: true })
  })

  it('qwen2 from its q/k/v biases; an unknown config architecture falls back to model_type', () => {
    const heads = syntheticLlmLayout('qwen2', { layers: 3, hidden: 16, intermediate: 32, vocab: 50, heads: 2, kvHeads: 1, tied: true })
    expect(detectModel(heads).llm?.family).toBe('qwen2')
    expect(detectModel(heads, { hfConfig: { architectures: ['FancyForCausalLM'], model_type: 'fancy' } }).llm?.family).toBe('fancy')
  })

  it('a config.json without the usual fields is ignored with a note', () => {
    const heads = syntheticLlmLayout('llama', { layers: 1, hidden: 8, intermediate: 8, vocab: 10, heads: 2, kvHeads: 2, tied: true })
    const d = detectModel(heads, { hfConfig: 'not an object' })
    expect(d.llm?.family).toBe('llama')
    expect(d.notes.join(' ')).toMatch(/config\.json was ignored/)
  })

  it('mixtral expert numbers do not count as layers', () => {
    const heads: Head[] = [
      { key: 'model.embed_tokens.weight', dtype: 'BF16', shape: [10, 8] },
      { key: 'model.layers.0.block_sparse_moe.experts.7.w1.weight', dtype: 'BF16', shape: [8, 8] },
      { key: 'model.layers.1.block_sparse_moe.experts.7.w1.weight', dtype: 'BF16', shape: [8, 8] },
      { key: 'model.norm.weight', dtype: 'BF16', shape: [8] },
    ]
    expect(detectModel(heads).llm).toMatchObject({ family: 'mixtral', layers: 2, tiedEmbeddings: true })
  })

  it('GPT-2: vocab from the token embedding even when the position embedding comes first; no lm_head = tied', () => {
    const heads: Head[] = [
      { key: 'transformer.wpe.weight', dtype: 'F32', shape: [1024, 16] },
      { key: 'transformer.wte.weight', dtype: 'F32', shape: [50257, 16] },
      { key: 'transformer.h.0.attn.c_attn.weight', dtype: 'F32', shape: [16, 48] },
      { key: 'transformer.ln_f.weight', dtype: 'F32', shape: [16] },
    ]
    expect(detectModel(heads).llm).toEqual({ family: 'gpt2', layers: 1, hiddenSize: 16, vocabSize: 50257, tiedEmbeddings: true })
  })

  it('unrecognised keys and empty files are unknown, with a note', () => {
    expect(detectModel([{ key: 'weights.0', dtype: 'F32', shape: [3] }])).toMatchObject({ architecture: 'unknown', layout: 'unknown', components: [{ id: 'leftovers' }] })
    const empty = detectModel([])
    expect(empty.architecture).toBe('unknown')
    expect(empty.notes).toEqual(['the file holds no tensors'])
  })

  it('diffusers files are labelled diffusers and cannot be aligned with single-file ones', () => {
    const unet: Head[] = [
      { key: 'conv_in.weight', dtype: 'F16', shape: [320, 9, 3, 3] },
      { key: 'down_blocks.0.resnets.0.conv1.weight', dtype: 'F16', shape: [320, 320, 3, 3] },
      { key: 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight', dtype: 'F16', shape: [1280, 768] },
    ]
    const d = detectModel(unet)
    expect(d).toMatchObject({ architecture: 'sd1', variant: 'inpainting', layout: 'diffusers' })
    expect(d.notes.join(' ')).toMatch(/diffusers tensor names/)
    expect(alignment(d, detectModel(tiny('sd1')))).toMatchObject({ alignable: false })
    expect(alignment(d, d)).toEqual({ alignable: true })

    const flux = detectModel([
      { key: 'single_transformer_blocks.0.attn.to_q.weight', dtype: 'BF16', shape: [4, 4] },
      { key: 'time_text_embed.guidance_embedder.linear_1.weight', dtype: 'BF16', shape: [4, 4] },
    ])
    expect(flux).toMatchObject({ architecture: 'flux', variant: 'dev', layout: 'diffusers' })
    const vae = detectModel([{ key: 'encoder.down_blocks.0.resnets.0.conv1.weight', dtype: 'F16', shape: [4, 4, 3, 3] }])
    expect(vae).toMatchObject({ architecture: 'component', variant: 'vae', layout: 'diffusers' })
  })
})
