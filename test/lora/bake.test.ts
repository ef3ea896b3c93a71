import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CommandIO } from '../../src-main/cli/command'
import { main } from '../../src-main/cli/main'
import { writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { expectClose, findingCodes, plan, readAll, writeModel } from '../plan/support'
import { kohya, naiveDelta, peft, shapeOf, writeLora, type TestModule, type WrittenModule } from './support'

let dir: string
const path = (name: string): string => join(dir, name)
const U = 'model.diffusion_model.'

const Q = `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight` // IN01
const OUT_PROJ = `${U}output_blocks.11.1.proj_out.weight` // OUT11
const CONV = `${U}input_blocks.4.0.in_layers.2.weight` // IN04, 3x3
const TE = 'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight' // BASE
const UNTOUCHED = `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight`

function sized(module: string, key: string, rank: number, alpha?: number): TestModule {
  const [rows, ...inner] = shapeOf('sd1', key)
  return kohya(module, rows!, inner, rank, alpha, inner.length === 3)
}

let modules: WrittenModule[]
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-bake-'))
  await writeModel(path('a.safetensors'), { seed: 1, dtype: 'F32' })
  await writeModel(path('b.safetensors'), { seed: 2, dtype: 'F32' })
  modules = await writeLora(
    path('lora.safetensors'),
    [
      sized('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', Q, 4, 2),
      sized('lora_unet_up_blocks_3_attentions_2_proj_out', OUT_PROJ, 2),
      sized('lora_unet_down_blocks_1_resnets_0_conv1', CONV, 3, 6),
      sized('lora_te_text_model_encoder_layers_0_self_attn_q_proj', TE, 2, 1),
      kohya('lora_unet_down_blocks_7_attentions_0_proj_in', 4, [4], 2),
    ],
    3,
    { ss_network_dim: '4' },
  )
})

interface Run {
  code: number
  out: string[]
  err: string[]
}

async function amalgam(args: readonly string[]): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }
  return { code: await main(args, io), out, err }
}

/** a + Σ scale · delta for one key, in float64. */
function expected(base: Float32Array, parts: readonly { module: WrittenModule; scale: number }[]): Float64Array {
  const out = Float64Array.from(base)
  for (const { module, scale } of parts) naiveDelta(module).forEach((d, i) => (out[i]! += scale * d))
  return out
}

async function bake(name: string, loras: unknown[], extra: Record<string, unknown> = {}): Promise<Map<string, { values: Float32Array }>> {
  const recipe = {
    format: 'amalgam.recipe',
    version: 1,
    merge: { method: 'passthrough', inputs: [{ lora: { model: 'a.safetensors' }, loras }] },
    output: { path: `out-${name}.safetensors`, dtype: 'fp32' },
    ...extra,
  }
  writeFileSync(path(`${name}.json`), JSON.stringify(recipe))
  const run = await amalgam(['merge', path(`${name}.json`)])
  expect(run.err.join('\n')).not.toMatch(/failed|error/i)
  expect(run.code).toBe(0)
  return readAll(path(`out-${name}.safetensors`))
}

describe('baking LoRAs into a model', () => {
  it('adds up @ down · alpha/rank · strength key by key (linear, 3x3 LoCon, text encoder); other keys stay a', async () => {
    const a = await readAll(path('a.safetensors'))
    const out = await bake('plain', [{ path: 'lora.safetensors', strength: 0.8 }])
    const [q, proj, conv, te] = modules
    expectClose(out.get(Q)!.values, expected(a.get(Q)!.values, [{ module: q!, scale: 0.8 * (2 / 4) }]), 1e-5, 1e-6)
    expectClose(out.get(OUT_PROJ)!.values, expected(a.get(OUT_PROJ)!.values, [{ module: proj!, scale: 0.8 }]), 1e-5, 1e-6)
    expectClose(out.get(CONV)!.values, expected(a.get(CONV)!.values, [{ module: conv!, scale: 0.8 * (6 / 3) }]), 1e-5, 1e-6)
    expectClose(out.get(TE)!.values, expected(a.get(TE)!.values, [{ module: te!, scale: 0.8 * (1 / 2) }]), 1e-5, 1e-6)
    expect(out.get(UNTOUCHED)!.values).toEqual(a.get(UNTOUCHED)!.values)
  })

  it('two LoRAs (one negative) add up; block weights scale per key (BASE, IN01, IN04, OUT11)', async () => {
    const a = await readAll(path('a.safetensors'))
    const [q, proj, conv, te] = modules
    // 26-value scheme: BASE 0.5, IN01 0, IN04 2, OUT11 0.25, the rest 1
    const blocks = Array.from({ length: 26 }, () => 1)
    blocks[0] = 0.5
    blocks[2] = 0
    blocks[5] = 2
    blocks[25] = 0.25
    const out = await bake('blocks', [
      { path: 'lora.safetensors', strength: 1, blocks },
      { path: 'lora.safetensors', strength: -0.5 },
    ])
    expectClose(out.get(Q)!.values, expected(a.get(Q)!.values, [{ module: q!, scale: -0.5 * 0.5 }]), 1e-5, 1e-6)
    expectClose(out.get(OUT_PROJ)!.values, expected(a.get(OUT_PROJ)!.values, [{ module: proj!, scale: 0.25 - 0.5 }]), 1e-5, 1e-6)
    expectClose(out.get(CONV)!.values, expected(a.get(CONV)!.values, [{ module: conv!, scale: 2 * 2 - 0.5 * 2 }]), 1e-5, 1e-6)
    expectClose(out.get(TE)!.values, expected(a.get(TE)!.values, [{ module: te!, scale: 0.5 * 0.5 - 0.5 * 0.5 }]), 1e-5, 1e-6)
  })

  it('LBW presets and the 17-value scheme: INALL keeps IN01 and BASE, drops OUT11; blocks outside the 17 get 0', async () => {
    const a = await readAll(path('a.safetensors'))
    const [q, , conv, te] = modules
    const out = await bake('inall', [{ path: 'lora.safetensors', strength: 1, blocks: 'INALL' }])
    expectClose(out.get(Q)!.values, expected(a.get(Q)!.values, [{ module: q!, scale: 0.5 }]), 1e-5, 1e-6)
    expectClose(out.get(TE)!.values, expected(a.get(TE)!.values, [{ module: te!, scale: 0.5 }]), 1e-5, 1e-6)
    expectClose(out.get(CONV)!.values, expected(a.get(CONV)!.values, [{ module: conv!, scale: 2 }]), 1e-5, 1e-6)
    expect(out.get(OUT_PROJ)!.values).toEqual(a.get(OUT_PROJ)!.values)
  })

  it('the baked model feeds a merge: weighted_sum(a + LoRA, b)', async () => {
    const a = await readAll(path('a.safetensors'))
    const b = await readAll(path('b.safetensors'))
    const recipe = {
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'weighted_sum', inputs: [{ lora: { model: 'a.safetensors' }, loras: [{ path: 'lora.safetensors' }] }, { model: 'b.safetensors' }], params: { alpha: 0.25 } },
      output: { path: 'fed.safetensors', dtype: 'fp32' },
    }
    writeFileSync(path('fed.json'), JSON.stringify(recipe))
    expect((await amalgam(['merge', path('fed.json')])).code).toBe(0)
    const out = await readAll(path('fed.safetensors'))
    const baked = expected(a.get(Q)!.values, [{ module: modules[0]!, scale: 0.5 }])
    const bq = b.get(Q)!.values
    expectClose(out.get(Q)!.values, Array.from(baked, (v, i) => 0.75 * v + 0.25 * bq[i]!), 1e-5, 1e-6)
  })

  it('reports modules that match nothing; refuses a LoRA that matches nothing and bad block weights', async () => {
    const p = await plan(dir, { merge: { method: 'passthrough', inputs: [{ lora: { model: 'a.safetensors' }, loras: [{ path: 'lora.safetensors' }] }] }, output: { path: 'x.safetensors' } })
    expect(findingCodes(p)).toContain('warning:LORA_UNMATCHED')
    expect(p.summary.findings.find((f) => f.code === 'LORA_UNMATCHED')?.message).toMatch(/1 of its 5 modules .*lora_unet_down_blocks_7_attentions_0_proj_in/)

    await writeLora(path('alien.safetensors'), [kohya('lora_unet_double_blocks_0_img_attn_qkv', 4, [4], 2)], 1)
    const alien = await plan(dir, { merge: { method: 'passthrough', inputs: [{ lora: { model: 'a.safetensors' }, loras: [{ path: 'alien.safetensors' }] }] }, output: { path: 'x.safetensors' } })
    expect(findingCodes(alien)).toContain('blocking:LORA_MATCHES_NOTHING')

    const overLora = await plan(dir, { merge: { method: 'passthrough', inputs: [{ lora: { model: 'a.safetensors' }, loras: [{ path: 'lora.safetensors' }] }] }, output: { path: 'lora.safetensors' } }, { overwrite: true })
    expect(findingCodes(overLora)).toContain('blocking:OUTPUT_IS_INPUT')

    await expect(plan(dir, { merge: { method: 'passthrough', inputs: [{ lora: { model: 'a.safetensors' }, loras: [{ path: 'lora.safetensors', blocks: [1, 2, 3] }] }] }, output: { path: 'x.safetensors' } })).rejects.toThrow(
      /loras\[0\]\.blocks: sd1 LoRA block weights take 17 or 26 values/,
    )
  })

  it('a diffusers-format LoRA bakes to the same result as the kohya one', async () => {
    const [rows, ...inner] = shapeOf('sd1', Q)
    const [kohyaModule] = await writeLora(path('k.safetensors'), [kohya('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', rows!, inner, 2)], 9)
    // PEFT names, same factor values: lora_B = up, lora_A = down
    const peftModule = peft('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q', rows!, inner, 2)
    await writeSafetensorsFile(path('p.safetensors'), [
      { key: peftModule.up, dtype: 'F32', shape: peftModule.upShape, data: kohyaModule!.upData },
      { key: peftModule.down, dtype: 'F32', shape: peftModule.downShape, data: kohyaModule!.downData },
    ])
    const k = await bake('k', [{ path: 'k.safetensors' }])
    const d = await bake('p', [{ path: 'p.safetensors' }])
    expect(d.get(Q)!.values).toEqual(k.get(Q)!.values)
    const a = await readAll(path('a.safetensors'))
    expectClose(k.get(Q)!.values, expected(a.get(Q)!.values, [{ module: kohyaModule!, scale: 1 }]), 1e-5, 1e-6)
  })
})

describe('baking an SDXL LoRA', () => {
  it('te2 q/k/v deltas land in their third of bigG in_proj_weight; te1 and SGM-named UNet modules bake too', async () => {
    await writeModel(path('xl.safetensors'), { arch: 'sdxl', seed: 4, dtype: 'F32' })
    const inProj = 'conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight'
    const fc1 = 'conditioner.embedders.0.transformer.text_model.encoder.layers.0.mlp.fc1.weight'
    const toK = `${U}input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight`
    const [rows, width] = shapeOf('sdxl', inProj)
    const third = rows! / 3
    const [fcRows, ...fcInner] = shapeOf('sdxl', fc1)
    const [kRows, ...kInner] = shapeOf('sdxl', toK)
    const [v, te1, unet] = await writeLora(
      path('xl-lora.safetensors'),
      [
        kohya('lora_te2_text_model_encoder_layers_1_self_attn_v_proj', third, [width!], 2, 1),
        kohya('lora_te1_text_model_encoder_layers_0_mlp_fc1', fcRows!, fcInner, 2),
        kohya('lora_unet_input_blocks_4_1_transformer_blocks_1_attn2_to_k', kRows!, kInner, 2),
      ],
      5,
    )
    const recipe = {
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'passthrough', inputs: [{ lora: { model: 'xl.safetensors' }, loras: [{ path: 'xl-lora.safetensors', strength: 2 }] }] },
      output: { path: 'out-xl.safetensors', dtype: 'fp32' },
    }
    writeFileSync(path('xl.json'), JSON.stringify(recipe))
    expect((await amalgam(['merge', path('xl.json')])).code).toBe(0)
    const a = await readAll(path('xl.safetensors'))
    const out = await readAll(path('out-xl.safetensors'))
    const base = a.get(inProj)!.values
    const expectedInProj = Float64Array.from(base)
    naiveDelta(v!).forEach((d, i) => (expectedInProj[2 * third * width! + i]! += 2 * 0.5 * d))
    expectClose(out.get(inProj)!.values, expectedInProj, 1e-5, 1e-6)
    expect(out.get(inProj)!.values.subarray(0, 2 * third * width!)).toEqual(base.subarray(0, 2 * third * width!))
    expectClose(out.get(fc1)!.values, expected(a.get(fc1)!.values, [{ module: te1!, scale: 2 }]), 1e-5, 1e-6)
    expectClose(out.get(toK)!.values, expected(a.get(toK)!.values, [{ module: unet!, scale: 2 }]), 1e-5, 1e-6)
  })
})

describe('baking a Flux LoRA', () => {
  it('diffusers to_v / proj_mlp deltas land in their rows of single_blocks linear1; kohya BFL names bake whole', async () => {
    await writeModel(path('flux.safetensors'), { arch: 'flux', seed: 6, dtype: 'F32' })
    const linear1 = `${U}single_blocks.1.linear1.weight`
    const proj = `${U}double_blocks.1.img_attn.proj.weight`
    const [rows, hidden] = shapeOf('flux', linear1)
    const [pRows, ...pInner] = shapeOf('flux', proj)
    const [toV, mlp, whole] = await writeLora(
      path('flux-lora.safetensors'),
      [
        peft('transformer.single_transformer_blocks.1.attn.to_v', hidden!, [hidden!], 2),
        peft('transformer.single_transformer_blocks.1.proj_mlp', rows! - 3 * hidden!, [hidden!], 2),
        kohya('lora_unet_double_blocks_1_img_attn_proj', pRows!, pInner, 2, 4),
      ],
      8,
    )
    const recipe = {
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'passthrough', inputs: [{ lora: { model: 'flux.safetensors' }, loras: [{ path: 'flux-lora.safetensors' }] }] },
      output: { path: 'out-flux.safetensors', dtype: 'fp32' },
    }
    writeFileSync(path('flux.json'), JSON.stringify(recipe))
    expect((await amalgam(['merge', path('flux.json')])).code).toBe(0)
    const a = await readAll(path('flux.safetensors'))
    const out = await readAll(path('out-flux.safetensors'))
    const want = Float64Array.from(a.get(linear1)!.values)
    naiveDelta(toV!).forEach((d, i) => (want[2 * hidden! * hidden! + i]! += d))
    naiveDelta(mlp!).forEach((d, i) => (want[3 * hidden! * hidden! + i]! += d))
    expectClose(out.get(linear1)!.values, want, 1e-5, 1e-6)
    expectClose(out.get(proj)!.values, expected(a.get(proj)!.values, [{ module: whole!, scale: 2 }]), 1e-5, 1e-6)
  })
})
