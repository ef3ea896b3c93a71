import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadComputeBackend, type ComputeBackend } from '../../src-main/engine/compute/backend'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { mergeLoras } from '../../src-main/engine/lora/merge'
import { readAll } from '../plan/support'
import { amalgam, distance, loraProduct } from './extract-support'
import { kohya, naiveDelta, shapeOf, writeLora, type WrittenModule } from './support'

let dir: string
let backend: ComputeBackend
const FF = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.weight'
const CONV = 'model.diffusion_model.input_blocks.4.0.out_layers.3.weight'
const TE = 'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight'
const FF_NAME = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj'
const CONV_NAME = 'lora_unet_down_blocks_1_resnets_0_conv2'
const TE_NAME = 'lora_te_text_model_encoder_layers_0_self_attn_q_proj'

function sized(name: string, key: string, rank: number, alpha?: number) {
  const [rows, ...inner] = shapeOf('sd1', key)
  return kohya(name, rows!, inner, rank, alpha, inner.length === 3)
}

let first: WrittenModule[]
let second: WrittenModule[]
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-merge-'))
  backend = await loadComputeBackend('wasm')
  first = await writeLora(join(dir, 'l1.safetensors'), [sized(FF_NAME, FF, 1, 0.5), sized(CONV_NAME, CONV, 2, 4)], 11, { ss_base_model_version: 'sd_v1' })
  second = await writeLora(join(dir, 'l2.safetensors'), [sized(FF_NAME, FF, 2), sized(TE_NAME, TE, 1, 2)], 12, { ss_base_model_version: 'sd_v1' })
})

/** Σ weight · alpha/rank · up·down of the modules named `name`, float64. */
function expectedDelta(parts: readonly { module: WrittenModule | undefined; weight: number }[]): Float64Array {
  let out: Float64Array | null = null
  for (const { module, weight } of parts) {
    if (module === undefined) throw new Error('missing module')
    const rank = module.downShape[0]!
    const scale = module.alphaValue === undefined ? 1 : module.alphaValue / rank
    const d = naiveDelta(module)
    out ??= new Float64Array(d.length)
    for (let i = 0; i < d.length; i++) out[i]! += weight * scale * d[i]!
  }
  return out ?? new Float64Array(0)
}

const byName = (modules: readonly WrittenModule[], name: string): WrittenModule | undefined => modules.find((m) => m.up.startsWith(`${name}.`))

describe('merging LoRAs', () => {
  it('is the weighted sum of the deltas per module, re-factored to the rank (exact when the rank holds the sum)', async () => {
    const out = join(dir, 'merged.safetensors')
    const result = await mergeLoras(backend.tf, backend.name, {
      inputs: [{ path: join(dir, 'l1.safetensors'), weight: 0.7 }, { path: join(dir, 'l2.safetensors'), weight: -0.3 }],
      out,
      rank: 3,
      convRank: 2,
      alpha: null,
      dtype: 'fp32',
      overwrite: false,
    })
    expect(new Set(result.written)).toEqual(new Set([FF_NAME, CONV_NAME, TE_NAME]))
    const lora = await readAll(out)
    const cases: [string, Float64Array][] = [
      [FF_NAME, expectedDelta([{ module: byName(first, FF_NAME), weight: 0.7 }, { module: byName(second, FF_NAME), weight: -0.3 }])],
      // modules of one input only keep their weight
      [CONV_NAME, expectedDelta([{ module: byName(first, CONV_NAME), weight: 0.7 }])],
      [TE_NAME, expectedDelta([{ module: byName(second, TE_NAME), weight: -0.3 }])],
    ]
    for (const [name, expected] of cases) {
      const { delta, alpha, rank } = loraProduct(lora, name)
      expect(alpha).toBe(rank)
      expect(distance(delta, expected), name).toBeLessThan(1e-5 * Math.hypot(...expected))
    }
    expect(lora.get(`${CONV_NAME}.lora_down.weight`)?.shape).toEqual([2, 5, 3, 3])
    expect(lora.get(`${CONV_NAME}.lora_up.weight`)?.shape).toEqual([5, 2, 1, 1])
    expect(lora.get(`${FF_NAME}.lora_up.weight`)?.shape).toEqual([20, 3])
    const { metadata } = await openSafetensors(out)
    expect(metadata).toMatchObject({ ss_network_module: 'networks.lora', ss_network_dim: '3', ss_network_alpha: '3', ss_base_model_version: 'sd_v1' })
    expect(JSON.parse(metadata['amalgam.lora_merge'] ?? '{}')).toMatchObject({ inputs: [{ file: 'l1.safetensors', weight: 0.7 }, { file: 'l2.safetensors', weight: -0.3 }], rank: 3 })
  })

  it('below the rank of the sum, is within the truncation error of the best rank-r approximation', async () => {
    const out = join(dir, 'merged-rank1.safetensors')
    await mergeLoras(backend.tf, backend.name, {
      inputs: [{ path: join(dir, 'l1.safetensors'), weight: 1 }, { path: join(dir, 'l2.safetensors'), weight: 1 }],
      out,
      rank: 1,
      convRank: 1,
      alpha: 1,
      dtype: 'fp32',
      overwrite: false,
    })
    const sum = expectedDelta([{ module: byName(first, FF_NAME), weight: 1 }, { module: byName(second, FF_NAME), weight: 1 }])
    const merged = loraProduct(await readAll(out), FF_NAME).delta
    // the rank-1 error is at least that of the best rank-1 approximation: positive, and below ‖sum‖
    const error = distance(merged, sum)
    expect(error).toBeGreaterThan(0)
    expect(error).toBeLessThan(Math.hypot(...sum))
    // the error is orthogonal to the kept part (a property of the truncated SVD, not of any rank-1 fit)
    let dot = 0
    for (let i = 0; i < sum.length; i++) dot += merged[i]! * (sum[i]! - merged[i]!)
    expect(Math.abs(dot)).toBeLessThan(1e-4 * Math.hypot(...sum) ** 2)
  })

  it('amalgam lora merge: one --weight per --input, --rank required', async () => {
    const [l1, l2] = [join(dir, 'l1.safetensors'), join(dir, 'l2.safetensors')]
    const run = await amalgam(['lora', 'merge', '--input', l1, '--input', l2, '--weight', '1', '--weight', '0.5', '--rank', '4', '--out', join(dir, 'cli.safetensors')])
    expect(run.code).toBe(0)
    expect(run.out.join('\n')).toMatch(/3 modules/)
    expect((await amalgam(['lora', 'merge', '--input', l1, '--input', l2, '--weight', '1', '--rank', '4', '--out', join(dir, 'x.safetensors')])).code).toBe(2)
    expect((await amalgam(['lora', 'merge', '--input', l1, '--out', join(dir, 'x.safetensors')])).code).toBe(2)
    expect((await amalgam(['lora', 'merge', '--input', l1, '--rank', '4', '--out', l1, '--overwrite'])).code).toBe(1)
  })
})
