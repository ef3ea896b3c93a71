import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  blockGroups,
  blockPosition,
  blockPositions,
  defaultConvention,
  getConvention,
  listConventions,
  reportBlocks,
  type BlockConvention,
} from '../../src-main/engine/arch/blocks'
import { canonicalKey } from '../../src-main/engine/arch/keys'
import { isAmalgamError } from '../../src-main/engine/errors'
import { BLOCKS, conventionJson, layoutHeads, LAYOUTS } from './support'

const keysOf = (arch: keyof typeof LAYOUTS, optional = false): string[] => layoutHeads(arch, { optional }).map((h) => h.key)

/** Naive SD UNet block of a supermerger-style convention: by the key's structure, no regex. */
function naiveUnetBlock(key: string, timeEmbed: string, lastOut: string): string | null {
  const rest = key.slice('model.diffusion_model.'.length)
  const [part, index] = rest.split('.')
  const two = (n: string | undefined): string => String(Number(n)).padStart(2, '0')
  if (part === 'time_embed' || part === 'label_emb') return timeEmbed
  if (part === 'out') return lastOut
  if (part === 'input_blocks') return `IN${two(index)}`
  if (part === 'middle_block') return 'M00'
  if (part === 'output_blocks') return `OUT${two(index)}`
  return null
}

describe('conventions from blocks.json', () => {
  it('every rule, fallback and skip of every convention is consistent and compiles', () => {
    for (const [name, family] of Object.entries(BLOCKS.conventions)) {
      for (const [arch, entry] of Object.entries(family)) {
        if (typeof entry === 'string') continue
        for (const rule of entry.rules) expect(entry.block_ids, `${name}/${arch} rule ${rule.regex}`).toContain(rule.block)
        if (entry.fallback.block !== null) expect(entry.block_ids).toContain(entry.fallback.block)
        for (const r of [...entry.rules, ...entry.skip]) expect(() => new RegExp(r.regex)).not.toThrow()
      }
    }
  })

  it('listConventions names each convention once per version; supermerger 2025-11 is current, 2023-07 is not', () => {
    expect(listConventions('sd1')).toEqual([
      { name: 'supermerger', version: '2025-11', current: true },
      { name: 'supermerger', version: '2023-07', current: false },
      { name: 'bbc_mc', version: '2026-11', current: true },
      { name: 'sd_mecha', version: '2026-03', current: true },
      { name: 'model_mixer', version: '2026-11', current: true },
      { name: 'comfyui', version: '2026-11', current: true },
      { name: 'comfyui_merge_blocks', version: '2026-11', current: true },
    ])
    expect(listConventions('sdxl').map((c) => c.name)).toEqual(['supermerger', 'sd_mecha', 'model_mixer', 'comfyui', 'comfyui_merge_blocks'])
    expect(listConventions('sd3').map((c) => c.name)).toEqual(['model_mixer', 'comfyui'])
    expect(listConventions('llm')).toEqual([{ name: 'layers', version: '1', current: true }])
    expect(listConventions('sdxl-refiner')).toEqual([])
  })

  it('defaults follow blocks.json architectures, at the current version', () => {
    expect(defaultConvention('sd1')).toEqual({ name: 'supermerger', version: '2025-11' })
    expect(defaultConvention('sdxl')).toEqual({ name: 'supermerger', version: '2025-11' })
    expect(defaultConvention('flux')).toEqual({ name: 'supermerger', version: '2025-11' })
    expect(defaultConvention('sd3')).toEqual({ name: 'model_mixer', version: '2026-11' })
    expect(defaultConvention('llm')).toEqual({ name: 'layers', version: '1' })
    expect(defaultConvention('lora')).toBeNull()
    const c = getConvention('sd2')
    expect([c.name, c.version, c.current, c.blockIds.length]).toEqual(['supermerger', '2025-11', true, 26])
  })

  it('unknown names, versions and architectures are BAD_ARGUMENT errors that list what exists', () => {
    const failure = (run: () => unknown): string => {
      try {
        run()
      } catch (err) {
        if (isAmalgamError(err, 'BAD_ARGUMENT')) return err.message
      }
      throw new Error('expected a BAD_ARGUMENT error')
    }
    expect(failure(() => getConvention('sd1', 'nope'))).toMatch(/known: supermerger 2025-11, supermerger 2023-07/)
    expect(failure(() => getConvention('sdxl', 'supermerger', '2023-07'))).toMatch(/version 2023-07/)
    expect(failure(() => getConvention('component'))).toMatch(/no block conventions for component/)
    expect(failure(() => getConvention('llm'))).toMatch(/layer count/)
    expect(failure(() => getConvention('llm', 'supermerger', undefined, { layers: 4 }))).toMatch(/layers 1/)
  })
})

describe('SD1 / SD2 block mapping', () => {
  it('supermerger: every SD1 UNet key maps to the block its structure says', () => {
    const c = getConvention('sd1')
    for (const key of keysOf('sd1').filter((k) => k.startsWith('model.diffusion_model.'))) {
      expect(c.blockOf(key), key).toEqual({ block: naiveUnetBlock(key, 'IN00', 'OUT11') })
    }
  })

  it('supermerger: text encoder and VAE are BASE; it skips position_ids, scheduler buffers, markers and the EMA counters', () => {
    const c = getConvention('sd1')
    const report = reportBlocks(c, [...keysOf('sd1', true), 'v_pred', 'ztsnr', 'model_ema.decay', 'model_ema.num_updates'])
    const text = LAYOUTS.sd1.keys.filter((k) => k.name.startsWith('cond_stage_model.') && /weight|bias/.test(k.name)).length
    const vae = LAYOUTS.sd1.keys.filter((k) => k.name.startsWith('first_stage_model.')).length
    expect(report.perBlock.BASE).toBe(text + vae)
    expect(report.skipped.map((s) => s.key).sort()).toEqual(
      [
        'cond_stage_model.transformer.text_model.embeddings.position_ids',
        ...LAYOUTS.sd1.keys.filter((k) => k.component === 'scheduler').map((k) => k.name),
        'v_pred',
        'ztsnr',
        'model_ema.decay',
        'model_ema.num_updates',
      ].sort(),
    )
    expect(report.unmatched).toEqual([])
  })

  it('supermerger: flattened EMA weights fall back to BASE', () => {
    expect(getConvention('sd1').blockOf('model_ema.diffusion_modelinput_blocks11weight')).toEqual({ unmatched: true, fallback: 'BASE' })
  })

  it('supermerger 2023-07 differs from 2025-11 in time_embed only (OUT11 then, IN00 now)', () => {
    const now = getConvention('sd1', 'supermerger', '2025-11')
    const then = getConvention('sd1', 'supermerger', '2023-07')
    expect(then.current).toBe(false)
    const differing = keysOf('sd1', true).filter((k) => JSON.stringify(now.blockOf(k)) !== JSON.stringify(then.blockOf(k)))
    expect(differing).toEqual(LAYOUTS.sd1.keys.filter((k) => k.name.includes('.time_embed.')).map((k) => k.name))
    for (const key of differing) {
      expect(now.blockOf(key)).toEqual({ block: 'IN00' })
      expect(then.blockOf(key)).toEqual({ block: 'OUT11' })
    }
  })

  it('SD2 maps like SD1 under supermerger; its OpenCLIP scalars are skipped', () => {
    const c = getConvention('sd2')
    for (const key of keysOf('sd2').filter((k) => k.startsWith('model.diffusion_model.'))) {
      expect(c.blockOf(key)).toEqual({ block: naiveUnetBlock(key, 'IN00', 'OUT11') })
    }
    for (const key of ['cond_stage_model.model.positional_embedding', 'cond_stage_model.model.text_projection', 'cond_stage_model.model.logit_scale']) {
      expect(c.blockOf(key)).toHaveProperty('skipped')
    }
  })

  it('sd_mecha puts time_embed in BASE and everything outside the UNet (text encoder and VAE) in BASE', () => {
    const c = getConvention('sd1', 'sd_mecha')
    for (const key of keysOf('sd1', true)) {
      const expected = key.startsWith('model.diffusion_model.') ? naiveUnetBlock(key, 'BASE', 'OUT11') : 'BASE'
      expect(c.blockOf(key), key).toEqual({ block: expected })
    }
  })

  it('model_mixer skips the VAE and leaves nothing unmatched in an SD1 file', () => {
    const report = reportBlocks(getConvention('sd1', 'model_mixer'), keysOf('sd1'))
    expect(report.skipped.filter((s) => s.key.startsWith('first_stage_model.')).length).toBe(LAYOUTS.sd1.counts.per_component.vae!.keys)
    expect(report.unmatched).toEqual([])
    expect(report.perBlock.OUT11).toBe(keysOf('sd1').filter((k) => /\.(output_blocks\.11|time_embed|out)\./.test(k)).length)
  })

  it('comfyui: 30 sliders, only the diffusion model, middle_block split in three', () => {
    const c = getConvention('sd1', 'comfyui')
    expect(c.blockIds).toEqual(conventionJson('comfyui', 'sd1').block_ids)
    const report = reportBlocks(c, keysOf('sd1'))
    const unet = keysOf('sd1').filter((k) => k.startsWith('model.diffusion_model.'))
    expect(report.skipped.length).toBe(keysOf('sd1').length - unet.length)
    for (const id of c.blockIds) {
      expect(report.perBlock[id], id).toBe(unet.filter((k) => k.startsWith(`model.diffusion_model.${id}`)).length)
    }
  })

  it('comfyui_merge_blocks: out takes output_blocks and out (prefix match)', () => {
    const report = reportBlocks(getConvention('sd1', 'comfyui_merge_blocks'), keysOf('sd1'))
    expect(report.perBlock.out).toBe(keysOf('sd1').filter((k) => /^model\.diffusion_model\.(output_blocks|out)\./.test(k)).length)
    expect(report.unmatched.map((u) => u.key)).toEqual(keysOf('sd1').filter((k) => k.startsWith('model.diffusion_model.time_embed.')))
    expect(report.unmatched.every((u) => u.fallback === 'input')).toBe(true)
  })
})

describe('SDXL, Flux and SD3 block mapping', () => {
  it('SDXL supermerger: label_emb and time_embed in IN00, final out in OUT08, the VAE slot stays empty (VAE keys are BASE)', () => {
    const c = getConvention('sdxl')
    expect(c.blockIds.at(-1)).toBe('VAE')
    for (const key of keysOf('sdxl').filter((k) => k.startsWith('model.diffusion_model.'))) {
      expect(c.blockOf(key), key).toEqual({ block: naiveUnetBlock(key, 'IN00', 'OUT08') })
    }
    const report = reportBlocks(c, keysOf('sdxl'))
    expect(report.perBlock.VAE).toBe(0)
    expect(report.unmatched).toEqual([])
  })

  it('SDXL sd_mecha: the VAE slot holds the VAE', () => {
    expect(reportBlocks(getConvention('sdxl', 'sd_mecha'), keysOf('sdxl')).perBlock.VAE).toBe(LAYOUTS.sdxl.counts.per_component.vae!.keys)
  })

  it('Flux supermerger: the 152 RMSNorm .scale keys and the VAE are skipped; CLIP, T5 and the blocks are mapped', () => {
    const c = getConvention('flux')
    const report = reportBlocks(c, keysOf('flux'))
    expect(report.skipped.filter((s) => s.key.endsWith('.scale')).length).toBe(152)
    expect(report.skipped.length).toBe(152 + LAYOUTS.flux.counts.per_component.vae!.keys)
    expect(report.perBlock.CLIP).toBe(LAYOUTS.flux.counts.per_component.text_encoder_l!.keys)
    expect(report.perBlock.T5).toBe(LAYOUTS.flux.counts.per_component.text_encoder_t5!.keys)
    const transformer = keysOf('flux').filter((k) => k.startsWith('model.diffusion_model.') && !k.endsWith('.scale'))
    for (let i = 0; i < 19; i++) expect(report.perBlock[`D${String(i).padStart(2, '0')}`]).toBe(transformer.filter((k) => k.includes(`.double_blocks.${i}.`)).length)
    for (let i = 0; i < 38; i++) expect(report.perBlock[`S${String(i).padStart(2, '0')}`]).toBe(transformer.filter((k) => k.includes(`.single_blocks.${i}.`)).length)
    expect(report.perBlock.OUT).toBe(transformer.filter((k) => k.includes('.final_layer.')).length)
    expect(report.unmatched).toEqual([])
  })

  it('Flux: bare BFL names map like prefixed ones once canonical (ComfyUI only knows the prefixed form)', () => {
    const bare = LAYOUTS.flux.keys.filter((k) => k.aliases !== undefined).map((k) => k.aliases![0]!)
    const flux = { architecture: 'flux' as const }
    for (const name of ['supermerger', 'model_mixer', 'comfyui']) {
      const c = getConvention('flux', name)
      for (const key of bare) expect(c.blockOf(canonicalKey(flux, key))).toEqual(c.blockOf(`model.diffusion_model.${key}`))
    }
    expect(reportBlocks(getConvention('flux', 'comfyui'), bare).skipped.length).toBe(bare.length)
  })

  it('SD3 model_mixer: joint blocks are IN00..IN23, text encoders BASE, the VAE skipped, the embedders not merged', () => {
    const report = reportBlocks(getConvention('sd3'), keysOf('sd3'))
    for (let i = 0; i < 24; i++) expect(report.perBlock[`IN${String(i).padStart(2, '0')}`]).toBe(keysOf('sd3').filter((k) => k.includes(`.joint_blocks.${i}.`)).length)
    expect(report.perBlock.BASE).toBe(keysOf('sd3').filter((k) => k.startsWith('text_encoders.')).length)
    expect(report.skipped.length).toBe(LAYOUTS.sd3.counts.per_component.vae!.keys)
    expect(report.unmatched.every((u) => u.fallback === null)).toBe(true)
    expect(report.unmatched.map((u) => u.key).sort()).toEqual(keysOf('sd3').filter((k) => k.startsWith('model.') && !k.includes('.joint_blocks.')).sort())
  })

  it('SD3.5 large (38 joint blocks) continues the numbering in both conventions', () => {
    const mixer = getConvention('sd3', undefined, undefined, { jointBlocks: 38 })
    expect(mixer.blockIds).toEqual(['BASE', ...Array.from({ length: 38 }, (_, i) => `IN${String(i).padStart(2, '0')}`)])
    expect(mixer.blockOf('model.diffusion_model.joint_blocks.30.x_block.attn.qkv.weight')).toEqual({ block: 'IN30' })
    expect(mixer.blockOf('model.diffusion_model.joint_blocks.3.x_block.attn.qkv.weight')).toEqual({ block: 'IN03' })
    const comfy = getConvention('sd3', 'comfyui', undefined, { jointBlocks: 38 })
    expect(comfy.blockIds.length).toBe(30 + 14)
    expect(comfy.blockIds.indexOf('joint_blocks.24.')).toBe(comfy.blockIds.indexOf('joint_blocks.23.') + 1)
    expect(comfy.blockOf('model.diffusion_model.joint_blocks.37.context_block.attn.qkv.weight')).toEqual({ block: 'joint_blocks.37.' })
    expect(getConvention('sd3').blockOf('model.diffusion_model.joint_blocks.30.x_block.attn.qkv.weight')).toEqual({ unmatched: true, fallback: null })
  })
})

describe('LLM layers convention', () => {
  it.each([
    [1, 'L00', 'L00'],
    [8, 'L00', 'L07'],
    [100, 'L00', 'L99'],
    [101, 'L000', 'L100'],
  ])('%i layers: EMBED, %s..%s, HEAD', (layers, first, last) => {
    const c = getConvention('llm', undefined, undefined, { layers })
    expect(c.blockIds.length).toBe(layers + 2)
    expect([c.blockIds[0], c.blockIds[1], c.blockIds.at(-2), c.blockIds.at(-1)]).toEqual(['EMBED', first, last, 'HEAD'])
  })

  it('maps layer keys by the first index after the layer stack, embeddings to EMBED, final norm and head to HEAD', () => {
    const c = getConvention('llm', 'layers', '1', { layers: 12 })
    expect(c.blockOf('model.layers.3.self_attn.q_proj.weight')).toEqual({ block: 'L03' })
    expect(c.blockOf('model.layers.11.block_sparse_moe.experts.5.w1.weight')).toEqual({ block: 'L11' })
    expect(c.blockOf('transformer.h.0.attn.c_attn.weight')).toEqual({ block: 'L00' })
    expect(c.blockOf('model.embed_tokens.weight')).toEqual({ block: 'EMBED' })
    expect(c.blockOf('transformer.wpe.weight')).toEqual({ block: 'EMBED' })
    expect(c.blockOf('model.norm.weight')).toEqual({ block: 'HEAD' })
    expect(c.blockOf('lm_head.weight')).toEqual({ block: 'HEAD' })
    expect(c.blockOf('transformer.ln_f.bias')).toEqual({ block: 'HEAD' })
    expect(c.blockOf('model.layers.12.mlp.up_proj.weight')).toEqual({ unmatched: true, fallback: null })
    expect(c.blockOf('model.rotary_emb.inv_freq')).toEqual({ unmatched: true, fallback: 'EMBED' })
  })
})

describe('gradient positions and groups', () => {
  it('blocks are spread evenly in convention order, t = i/(n−1)', () => {
    const c = getConvention('sd1')
    c.blockIds.forEach((id, i) => expect(blockPosition(c, id)).toBeCloseTo(i / 25, 12))
    expect(blockPosition(c, 'M00')).toBeCloseTo(13 / 25, 12)
  })

  it('LLM layers are spread alone; EMBED and HEAD sit at 0 like current mergekit', () => {
    const c = getConvention('llm', undefined, undefined, { layers: 5 })
    expect(c.blockIds.map((id) => blockPosition(c, id))).toEqual([0, 0, 0.25, 0.5, 0.75, 1, 0])
    const one = getConvention('llm', undefined, undefined, { layers: 1 })
    expect(blockPosition(one, 'L00')).toBe(1)
  })

  it('a block outside the convention is an error', () => {
    expect(() => blockPosition(getConvention('sd1'), 'IN12')).toThrow(/IN12 is not in the supermerger convention/)
  })

  it('positions lie in [0, 1], rise along the strip, and end at 1 (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 2, maxLength: 80 }), (ids) => {
        const t = blockPositions('any', ids)
        expect(t[0]).toBe(0)
        expect(t.at(-1)).toBe(1)
        for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!)
      }),
    )
  })

  const groups = (c: BlockConvention): Record<string, string[]> => {
    const out: Record<string, string[]> = {}
    for (const { id, group } of blockGroups(c)) (out[group] ??= []).push(id)
    return out
  }

  it('SD UNets: BASE / IN / M / OUT (VAE with BASE)', () => {
    const sd1 = groups(getConvention('sd1'))
    expect([sd1.BASE, sd1.IN?.length, sd1.M, sd1.OUT?.length]).toEqual([['BASE'], 12, ['M00'], 12])
    expect(groups(getConvention('sdxl')).BASE).toEqual(['BASE', 'VAE'])
    const comfy = groups(getConvention('sd1', 'comfyui'))
    expect([comfy.IN?.length, comfy.M?.length, comfy.OUT?.length, comfy.BASE]).toEqual([14, 3, 13, undefined])
  })

  it('Flux: double / single / extra; SD3: joint / extra; LLM: EMBED / layer / HEAD', () => {
    const flux = groups(getConvention('flux'))
    expect([flux.double?.length, flux.single?.length, flux.extra]).toEqual([19, 38, ['CLIP', 'T5', 'IN', 'OUT']])
    const comfyFlux = groups(getConvention('flux', 'comfyui'))
    expect([comfyFlux.double?.length, comfyFlux.single?.length, comfyFlux.extra?.length]).toEqual([19, 38, 6])
    const sd3 = groups(getConvention('sd3'))
    expect([sd3.joint?.length, sd3.extra]).toEqual([24, ['BASE']])
    const llm = groups(getConvention('llm', undefined, undefined, { layers: 3 }))
    expect(llm).toEqual({ EMBED: ['EMBED'], layer: ['L00', 'L01', 'L02'], HEAD: ['HEAD'] })
  })
})
