import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { LayoutArchitecture } from '../../src-main/engine/arch/layouts'
import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { loraDelta } from '../../src-main/engine/lora/lora-delta'
import { readLoraFile, type LoraFile } from '../../src-main/engine/lora/lora-file'
import { matchLora } from '../../src-main/engine/lora/lora-match'
import { testBackend } from '../support/run-method'
import { kohya, naiveDelta, peft, shapeOf, writeLora, type TestModule } from './support'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-match-'))
})

const U = 'model.diffusion_model.'

function tensorsOf(arch: LayoutArchitecture): Map<string, { shape: readonly number[] }> {
  return new Map(syntheticLayout(arch, { scale: 'tiny' }).map((t) => [t.key, { shape: t.shape }]))
}

async function load(name: string, modules: readonly TestModule[]): Promise<LoraFile> {
  const path = join(dir, name)
  await writeLora(path, modules, 7)
  const reader = new TensorReader()
  try {
    return readLoraFile(await openSafetensors(path), reader)
  } finally {
    reader.close()
  }
}

/** A linear module's kohya entry sized for `key` of the synthetic layout. */
function linear(arch: LayoutArchitecture, module: string, key: string, rank = 2, alpha?: number): TestModule {
  const [rows, ...inner] = shapeOf(arch, key)
  return kohya(module, rows!, inner, rank, alpha)
}

describe('kohya SD1 names', () => {
  const cases: [string, string][] = [
    ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`],
    ['lora_unet_down_blocks_2_attentions_1_transformer_blocks_0_ff_net_0_proj', `${U}input_blocks.8.1.transformer_blocks.0.ff.net.0.proj.weight`],
    ['lora_unet_mid_block_attentions_0_proj_in', `${U}middle_block.1.proj_in.weight`],
    ['lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_out_0', `${U}output_blocks.11.1.transformer_blocks.0.attn2.to_out.0.weight`],
    ['lora_unet_up_blocks_1_attentions_0_proj_out', `${U}output_blocks.3.1.proj_out.weight`],
    ['lora_te_text_model_encoder_layers_0_self_attn_q_proj', 'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight'],
    ['lora_te_text_model_encoder_layers_11_mlp_fc2', 'cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight'],
  ]
  it('map onto the LDM keys of the checkpoint', async () => {
    const file = await load('sd1-kohya.safetensors', cases.map(([m, k]) => linear('sd1', m, k)))
    const match = matchLora(file, 'sd1', tensorsOf('sd1'))
    expect(match.unmatched).toEqual([])
    expect(match.shapeMismatches).toEqual([])
    for (const [module, key] of cases) expect(match.byKey.get(key)?.map((m) => m.module.fileName)).toEqual([module])
  })

  it('LoCon conv layers (3x3 resnets, down- and upsamplers) map too', async () => {
    const conv = (module: string, key: string): TestModule => {
      const [out, inC, kh, kw] = shapeOf('sd1', key)
      return kohya(module, out!, [inC!, kh!, kw!], 2, 1, true)
    }
    const cases: [string, string][] = [
      ['lora_unet_down_blocks_1_resnets_0_conv1', `${U}input_blocks.4.0.in_layers.2.weight`],
      ['lora_unet_down_blocks_0_downsamplers_0_conv', `${U}input_blocks.3.0.op.weight`],
      ['lora_unet_up_blocks_0_upsamplers_0_conv', `${U}output_blocks.2.1.conv.weight`],
      ['lora_unet_up_blocks_2_resnets_1_conv_shortcut', `${U}output_blocks.7.0.skip_connection.weight`],
    ]
    const file = await load('sd1-locon.safetensors', cases.map(([m, k]) => conv(m, k)))
    const match = matchLora(file, 'sd1', tensorsOf('sd1'))
    expect(match.unmatched).toEqual([])
    for (const [module, key] of cases) expect(match.byKey.get(key)?.map((m) => m.module.fileName)).toEqual([module])
  })

  it('reports modules that match no key, and modules of another size', async () => {
    const key = `${U}input_blocks.1.1.proj_in.weight`
    const [rows] = shapeOf('sd1', key)
    const file = await load('sd1-odd.safetensors', [
      linear('sd1', 'lora_unet_down_blocks_0_attentions_0_proj_in', key),
      kohya('lora_unet_down_blocks_9_attentions_0_proj_in', 4, [4], 2),
      kohya('lora_unet_down_blocks_0_attentions_0_proj_out', rows! + 1, [3], 2),
    ])
    const match = matchLora(file, 'sd1', tensorsOf('sd1'))
    expect(match.unmatched).toEqual(['lora_unet_down_blocks_9_attentions_0_proj_in'])
    expect(match.shapeMismatches.map((m) => m.module)).toEqual(['lora_unet_down_blocks_0_attentions_0_proj_out'])
    expect([...match.byKey.keys()]).toEqual([key])
  })
})

describe('diffusers / PEFT names', () => {
  it('map onto the same keys as the kohya names', async () => {
    const pairs: [string, string, string][] = [
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q', 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`],
      ['unet.up_blocks.1.attentions.2.transformer_blocks.0.attn1.to_out.0', 'lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn1_to_out_0', `${U}output_blocks.5.1.transformer_blocks.0.attn1.to_out.0.weight`],
      ['text_encoder.text_model.encoder.layers.3.self_attn.v_proj', 'lora_te_text_model_encoder_layers_3_self_attn_v_proj', 'cond_stage_model.transformer.text_model.encoder.layers.3.self_attn.v_proj.weight'],
    ]
    const sized = (name: string, key: string, make: typeof peft): TestModule => {
      const [rows, ...inner] = shapeOf('sd1', key)
      return make(name, rows!, inner, 2)
    }
    const diffusers = matchLora(await load('sd1-peft.safetensors', pairs.map(([d, , k]) => sized(d, k, peft))), 'sd1', tensorsOf('sd1'))
    const kohyaMatch = matchLora(await load('sd1-kohya2.safetensors', pairs.map(([, n, k]) => sized(n, k, (m, r, i, rank) => kohya(m, r, i, rank)))), 'sd1', tensorsOf('sd1'))
    expect(diffusers.unmatched).toEqual([])
    expect([...diffusers.byKey.keys()]).toEqual([...kohyaMatch.byKey.keys()])
    expect([...diffusers.byKey.keys()]).toEqual(pairs.map(([, , k]) => k))
  })
})

describe('SDXL', () => {
  it('maps te1 onto CLIP-L, te2 q/k/v onto thirds of bigG in_proj_weight, and LDM-named UNet modules', async () => {
    const inProj = 'conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight'
    const [rows, width] = shapeOf('sdxl', inProj)
    const third = rows! / 3
    const file = await load('sdxl.safetensors', [
      linear('sdxl', 'lora_te1_text_model_encoder_layers_0_mlp_fc1', 'conditioner.embedders.0.transformer.text_model.encoder.layers.0.mlp.fc1.weight'),
      kohya('lora_te2_text_model_encoder_layers_1_self_attn_k_proj', third, [width!], 2),
      linear('sdxl', 'lora_te2_text_model_encoder_layers_1_self_attn_out_proj', 'conditioner.embedders.1.model.transformer.resblocks.1.attn.out_proj.weight'),
      linear('sdxl', 'lora_unet_input_blocks_4_1_transformer_blocks_1_attn2_to_k', `${U}input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight`),
      linear('sdxl', 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn2_to_v', `${U}input_blocks.4.1.transformer_blocks.1.attn2.to_v.weight`),
    ])
    const match = matchLora(file, 'sdxl', tensorsOf('sdxl'))
    expect(match.unmatched).toEqual([])
    expect(match.shapeMismatches).toEqual([])
    expect(match.byKey.get('conditioner.embedders.0.transformer.text_model.encoder.layers.0.mlp.fc1.weight')).toHaveLength(1)
    expect(match.byKey.get(inProj)?.map((m) => m.target.rows)).toEqual([{ start: third, count: third }])
    expect(match.byKey.get(`${U}input_blocks.4.1.transformer_blocks.1.attn2.to_v.weight`)).toHaveLength(1)
  })
})

describe('Flux', () => {
  it('maps kohya BFL names and diffusers names (split q / k / v and MLP rows of fused weights)', async () => {
    const qkv = `${U}double_blocks.0.img_attn.qkv.weight`
    const linear1 = `${U}single_blocks.2.linear1.weight`
    const [l1Rows, hidden] = shapeOf('flux', linear1)
    const [qkvRows, qkvIn] = shapeOf('flux', qkv)
    const file = await load('flux.safetensors', [
      kohya('lora_unet_double_blocks_0_img_attn_qkv', qkvRows!, [qkvIn!], 2),
      peft('transformer.transformer_blocks.0.attn.add_k_proj', qkvRows! / 3, [qkvIn!], 2),
      peft('transformer.single_transformer_blocks.2.attn.to_v', hidden!, [hidden!], 2),
      peft('transformer.single_transformer_blocks.2.proj_mlp', l1Rows! - 3 * hidden!, [hidden!], 2),
      peft('transformer.single_transformer_blocks.2.norm_out_unknown', 2, [2], 2),
    ])
    const match = matchLora(file, 'flux', tensorsOf('flux'))
    expect(match.unmatched).toEqual(['transformer.single_transformer_blocks.2.norm_out_unknown'])
    expect(match.shapeMismatches).toEqual([])
    expect(match.byKey.get(qkv)?.map((m) => m.target.rows)).toEqual([null])
    expect(match.byKey.get(`${U}double_blocks.0.txt_attn.qkv.weight`)?.map((m) => m.target.rows)).toEqual([{ start: qkvRows! / 3, count: qkvRows! / 3 }])
    expect(match.byKey.get(linear1)?.map((m) => m.target.rows)).toEqual([
      { start: 2 * hidden!, count: hidden! },
      { start: 3 * hidden!, count: l1Rows! - 3 * hidden! },
    ])
  })
})

describe('module factors', () => {
  it('alpha / rank is the scale; no alpha means 1; the delta is up @ down (conv reshaped)', async () => {
    const key = `${U}input_blocks.4.0.in_layers.2.weight`
    const [out, inC, kh, kw] = shapeOf('sd1', key)
    const modules = [kohya('lora_unet_down_blocks_1_resnets_0_conv1', out!, [inC!, kh!, kw!], 4, 2, true), linear('sd1', 'lora_unet_mid_block_attentions_0_proj_in', `${U}middle_block.1.proj_in.weight`, 3)]
    const path = join(dir, 'scale.safetensors')
    const written = await writeLora(path, modules, 11)
    const reader = new TensorReader()
    try {
      const file = readLoraFile(await openSafetensors(path), reader)
      expect(file.modules.map((m) => [m.rank, m.alpha, m.scale])).toEqual([
        [4, 2, 0.5],
        [3, null, 1],
      ])
      const { tf } = await testBackend()
      file.modules.forEach((module, i) => {
        const delta = loraDelta(tf, module.factors, 1, (loc) => reader.readFloat32(loc))
        const expected = naiveDelta(written[i]!)
        expect(delta.length).toBe(expected.length)
        expected.forEach((v, j) => expect(delta[j]).toBeCloseTo(v, 5))
      })
    } finally {
      reader.close()
    }
  })
})
