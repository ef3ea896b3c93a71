import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadComputeBackend, type ComputeBackend } from '../../src-main/engine/compute/backend'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { extractLora, type ExtractOptions } from '../../src-main/engine/lora/extract'
import { readAll } from '../plan/support'
import { CHANGED, amalgam, bake, distance, loraProduct, lowRankDelta, singularValuesOfRank2, writePair, type Delta } from './extract-support'

let dir: string
let backend: ComputeBackend
let pair: Awaited<ReturnType<typeof writePair>>
const deltas = new Map<string, Delta>(Object.keys(CHANGED).map((key) => [key, lowRankDelta(key, 2, 7)]))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-lora-extract-'))
  backend = await loadComputeBackend('wasm')
  pair = await writePair(dir, deltas)
})

function options(out: string, extra: Partial<ExtractOptions> = {}): ExtractOptions {
  return { tuned: pair.b, base: pair.a, out: join(dir, out), rank: 3, convRank: 2, alpha: null, dtype: 'fp32', clampQuantile: 1, minDiff: 1e-6, overwrite: false, ...extra }
}

describe('extracting a LoRA from b − a', () => {
  it('writes the same file on two worker threads as on one, modules in layer order, every layer reported once', async () => {
    const one = await extractLora(backend.name, options('one-thread.safetensors', { threads: 1 }))
    const events: number[] = []
    const two = await extractLora(backend.name, options('two-threads.safetensors', { threads: 2 }), (event) => {
      if (event.type === 'module') events.push(event.index)
    })
    expect(two.written).toEqual(one.written)
    expect(two.skipped).toEqual(one.skipped)
    expect([...events].sort((x, y) => x - y)).toEqual(Array.from({ length: events.length }, (_, i) => i))
    const [a, b] = [await readAll(one.path), await readAll(two.path)]
    expect([...b.keys()]).toEqual([...a.keys()])
    for (const [key, t] of a) expect(Array.from(b.get(key)!.values), key).toEqual(Array.from(t.values))
  })

  it('writes a kohya LoRA of the changed layers only, which baked into a gives b back (rank ≥ true rank)', async () => {
    const result = await extractLora(backend.name, options('exact.safetensors'))
    expect(new Set(result.written)).toEqual(new Set(Object.values(CHANGED)))
    expect(result.skipped.length).toBeGreaterThan(10)
    expect(result.skipped.map((s) => s.maxDiff).every((d) => d === 0)).toBe(true)

    const lora = await readAll(result.path)
    expect(lora.size).toBe(3 * deltas.size)
    const [linear, conv, oneByOne, te] = Object.values(CHANGED)
    expect(lora.get(`${linear}.lora_down.weight`)?.shape).toEqual([3, 3])
    expect(lora.get(`${linear}.lora_up.weight`)?.shape).toEqual([20, 3])
    // 3x3 conv: LoCon at the conv rank
    expect(lora.get(`${conv}.lora_down.weight`)?.shape).toEqual([2, 5, 3, 3])
    expect(lora.get(`${conv}.lora_up.weight`)?.shape).toEqual([5, 2, 1, 1])
    // 1x1 conv: the linear rank, conv-shaped factors
    expect(lora.get(`${oneByOne}.lora_down.weight`)?.shape).toEqual([3, 3, 1, 1])
    expect(lora.get(`${oneByOne}.lora_up.weight`)?.shape).toEqual([5, 3, 1, 1])
    expect(lora.get(`${te}.alpha`)?.values[0]).toBe(3) // alpha = rank: scale 1

    for (const [key, name] of Object.entries(CHANGED)) {
      const delta = deltas.get(key)!.values
      const product = loraProduct(lora, name).delta
      expect(distance(product, delta)).toBeLessThan(1e-5 * Math.hypot(...delta))
    }

    const baked = await bake(dir, pair.a, result.path, 'baked-exact')
    const b = await readAll(pair.b)
    for (const [key, t] of b) {
      const got = baked.get(key)?.values
      expect(got, key).toBeDefined()
      if (key in CHANGED) expect(distance(got!, t.values), key).toBeLessThan(1e-5 * Math.hypot(...deltas.get(key)!.values))
      else expect(distance(got!, t.values), key).toBe(0)
    }
  })

  it('at rank 1 of a rank-2 delta, the baked error is the optimal σ₂ (Eckart–Young)', async () => {
    const result = await extractLora(backend.name, options('rank1.safetensors', { rank: 1, convRank: 1 }))
    const baked = await bake(dir, pair.a, result.path, 'baked-rank1')
    const b = await readAll(pair.b)
    for (const key of Object.keys(CHANGED)) {
      const [, sigma2] = singularValuesOfRank2(deltas.get(key)!)
      const error = distance(baked.get(key)!.values, b.get(key)!.values)
      expect(error, key).toBeGreaterThan(sigma2 * (1 - 1e-3))
      expect(error, key).toBeLessThan(sigma2 * (1 + 1e-3) + 1e-6)
    }
  })

  it('stores a chosen alpha and scales the factors so that up·down·alpha/rank is still b − a', async () => {
    const result = await extractLora(backend.name, options('alpha.safetensors', { alpha: 0.5 }))
    const lora = await readAll(result.path)
    for (const [key, name] of Object.entries(CHANGED)) {
      const { delta, alpha, rank } = loraProduct(lora, name)
      expect(alpha).toBe(0.5)
      expect(rank).toBe(name.endsWith('conv2') ? 2 : 3)
      expect(distance(delta, deltas.get(key)!.values)).toBeLessThan(1e-5 * Math.hypot(...deltas.get(key)!.values))
    }
    const baked = await bake(dir, pair.a, result.path, 'baked-alpha')
    const b = await readAll(pair.b)
    for (const key of Object.keys(CHANGED)) expect(distance(baked.get(key)!.values, b.get(key)!.values)).toBeLessThan(1e-5 * Math.hypot(...deltas.get(key)!.values))
  })

  it('clamps factor values to their quantile as kohya does', async () => {
    const result = await extractLora(backend.name, options('clamped.safetensors', { clampQuantile: 0.8 }))
    const clamped = await readAll(result.path)
    const free = await readAll((await extractLora(backend.name, options('free.safetensors'))).path)
    const name = CHANGED[`model.diffusion_model.input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.weight`]
    const all = (m: typeof free): number[] => [...m.get(`${name}.lora_up.weight`)!.values, ...m.get(`${name}.lora_down.weight`)!.values]
    const sorted = all(free).sort((x, y) => x - y)
    const position = 0.8 * (sorted.length - 1)
    const low = Math.floor(position)
    const high = sorted[low]! + (position - low) * (sorted[low + 1]! - sorted[low]!)
    all(clamped).forEach((x, i) => expect(x).toBeCloseTo(Math.min(high, Math.max(-high, all(free)[i]!)), 6))
  })

  it('writes kohya ss_* metadata and amalgam lineage', async () => {
    const path = join(dir, 'exact.safetensors')
    const { metadata } = await openSafetensors(path)
    expect(metadata).toMatchObject({
      ss_network_module: 'networks.lora',
      ss_network_dim: '3',
      ss_network_alpha: '3',
      ss_base_model_version: 'sd_v1',
      ss_v2: 'false',
      ss_sd_model_name: 'a-sd1.safetensors',
      ss_output_name: 'exact',
    })
    expect(JSON.parse(metadata['ss_network_args'] ?? '{}')).toEqual({ conv_dim: '2', conv_alpha: '2' })
    const lineage = JSON.parse(metadata['amalgam.lora_extract'] ?? '{}') as { tuned: { file: string }; base: { file: string }; rank: number }
    expect(lineage).toMatchObject({ tuned: { file: 'b-sd1.safetensors' }, base: { file: 'a-sd1.safetensors' }, rank: 3, convRank: 2 })
  })

  it('refuses bad options, identical models and an existing output', async () => {
    await expect(extractLora(backend.name, options('x.safetensors', { rank: 0 }))).rejects.toThrow(/--rank/)
    await expect(extractLora(backend.name, options('x.safetensors', { clampQuantile: 1.5 }))).rejects.toThrow(/--clamp-quantile/)
    await expect(extractLora(backend.name, options('x.safetensors', { tuned: pair.a }))).rejects.toThrow(/nothing to extract/)
    await expect(extractLora(backend.name, options('exact.safetensors'))).rejects.toThrow(/exists/)
  })
})

describe('extracting from SDXL', () => {
  it('names UNet modules as the checkpoint does, splits the second encoder\'s in_proj into q / k / v, and bakes back to b', async () => {
    const IN_PROJ = 'conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight'
    const TO_Q = 'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight'
    const TE1 = 'conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight'
    const xl = new Map([IN_PROJ, TO_Q, TE1].map((key) => [key, lowRankDelta(key, 2, 9, 'sdxl')]))
    const xlPair = await writePair(dir, xl, 'sdxl')
    const result = await extractLora(backend.name, options('xl.safetensors', { tuned: xlPair.b, base: xlPair.a, rank: 6 }))
    expect(new Set(result.written)).toEqual(
      new Set([
        'lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q',
        'lora_te1_text_model_encoder_layers_0_self_attn_q_proj',
        ...['q', 'k', 'v'].map((p) => `lora_te2_text_model_encoder_layers_0_self_attn_${p}_proj`),
      ]),
    )
    const lora = await readAll(result.path)
    expect(lora.get('lora_te2_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight')?.shape).toEqual([6, 1280])
    expect(lora.get('lora_te2_text_model_encoder_layers_0_self_attn_k_proj.lora_up.weight')?.shape).toEqual([10, 6])
    const { metadata } = await openSafetensors(result.path)
    expect(metadata['ss_base_model_version']).toBe('sdxl_base_v1-0')
    const baked = await bake(dir, xlPair.a, result.path, 'baked-xl')
    for (const [key, t] of await readAll(xlPair.b)) {
      const delta = xl.get(key)
      expect(distance(baked.get(key)!.values, t.values), key).toBeLessThanOrEqual(delta === undefined ? 0 : 1e-5 * Math.hypot(...delta.values))
    }
  })
})

describe('amalgam lora extract', () => {
  it('extracts with JSON progress, and reports usage errors', async () => {
    const out = join(dir, 'cli.safetensors')
    const run = await amalgam(['lora', 'extract', '--tuned', pair.b, '--base', pair.a, '--out', out, '--rank', '4', '--dtype', 'bf16', '--json-progress'])
    expect(run.err.join('\n')).toBe('')
    expect(run.code).toBe(0)
    const events = run.out.map((line) => JSON.parse(line) as { type: string })
    expect(events[0]).toMatchObject({ type: 'start' })
    expect(events.at(-1)).toMatchObject({ type: 'done', written: 4 })
    const lora = await readAll(out)
    expect(lora.get(`${CHANGED['cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight']}.lora_up.weight`)?.dtype).toBe('BF16')

    expect((await amalgam(['lora', 'extract', '--base', pair.a, '--out', join(dir, 'y.safetensors')])).code).toBe(2)
    expect((await amalgam(['lora', 'extract', '--tuned', pair.b, '--base', pair.a, '--out', join(dir, 'y.safetensors'), '--dtype', 'fp8'])).code).toBe(2)
    expect((await amalgam(['lora', 'extract', '--tuned', pair.b, '--base', pair.a, '--out', join(dir, 'y.safetensors'), '--rank', 'many'])).code).toBe(2)
  })
})
