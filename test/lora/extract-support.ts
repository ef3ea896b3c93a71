import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { LayoutArchitecture } from '../../src-main/engine/arch/layouts'
import type { CommandIO } from '../../src-main/cli/command'
import { main } from '../../src-main/cli/main'
import { numelOf } from '../../src-main/engine/formats/dtype'
import { readAll, writeModel } from '../plan/support'
import { shapeOf, values } from './support'

export const U = 'model.diffusion_model.'
/** the layers the tests change, with their kohya names */
export const CHANGED = {
  [`${U}input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.weight`]: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj', // linear 20×3
  [`${U}input_blocks.4.0.out_layers.3.weight`]: 'lora_unet_down_blocks_1_resnets_0_conv2', // 3x3 conv [5, 5, 3, 3]
  [`${U}input_blocks.4.0.skip_connection.weight`]: 'lora_unet_down_blocks_1_resnets_0_conv_shortcut', // 1x1 conv [5, 3, 1, 1]
  'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight': 'lora_te_text_model_encoder_layers_0_self_attn_q_proj', // linear 6×6
} as const

export interface Delta {
  readonly rows: number
  readonly inner: number
  /** float64, C order */
  readonly values: Float64Array
  /** P (rows × k) and Q (k × inner), delta = P·Q */
  readonly p: Float64Array
  readonly q: Float64Array
  readonly k: number
}

/** A delta of rank k for a key of a tiny synthetic layout, in float64. */
export function lowRankDelta(key: string, k: number, seed: number, arch: LayoutArchitecture = 'sd1'): Delta {
  const [rows = 0, ...innerShape] = shapeOf(arch, key)
  const inner = numelOf(innerShape)
  const p = Float64Array.from(values(seed, `${key}/p`, rows * k))
  const q = Float64Array.from(values(seed, `${key}/q`, k * inner))
  return { rows, inner, values: matmul(p, q, rows, k, inner), p, q, k }
}

export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let l = 0; l < k; l++) for (let j = 0; j < n; j++) out[i * n + j]! += a[i * k + l]! * b[l * n + j]!
  return out
}

/** Singular values of the rank-2 delta P·Q: square roots of the eigenvalues of (PᵀP)(QQᵀ), a 2×2 matrix. */
export function singularValuesOfRank2(d: Delta): [number, number] {
  const ptp = matmul(transpose(d.p, d.rows, 2), d.p, 2, d.rows, 2)
  const qqt = matmul(d.q, transpose(d.q, 2, d.inner), 2, d.inner, 2)
  const m = matmul(ptp, qqt, 2, 2, 2)
  const trace = m[0]! + m[3]!
  const det = m[0]! * m[3]! - m[1]! * m[2]!
  const root = Math.sqrt(Math.max(0, (trace * trace) / 4 - det))
  return [Math.sqrt(trace / 2 + root), Math.sqrt(Math.max(0, trace / 2 - root))]
}

function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!
  return out
}

/** a (seed 1, F32) and b = a + the given deltas, in `dir`. */
export async function writePair(dir: string, deltas: ReadonlyMap<string, Delta>, arch: LayoutArchitecture = 'sd1'): Promise<{ a: string; b: string }> {
  const a = await writeModel(join(dir, `a-${arch}.safetensors`), { arch, seed: 1, dtype: 'F32' })
  const aValues = new Map([...(await readAll(a))].map(([k, t]) => [k, t.values]))
  const bValues: Record<string, Float32Array> = {}
  for (const [key, delta] of deltas) {
    const base = aValues.get(key)
    if (base === undefined) throw new Error(`no ${key} in a`)
    bValues[key] = Float32Array.from(base, (x, i) => x + delta.values[i]!)
  }
  const b = await writeModel(join(dir, `b-${arch}.safetensors`), { arch, seed: 1, dtype: 'F32', values: bValues })
  return { a, b }
}

export async function amalgam(args: readonly string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false }
  return { code: await main(args, io), out, err }
}

/** Bakes `lora` into `model` at strength 1 with the lora recipe node; returns the result's tensors. */
export async function bake(dir: string, model: string, lora: string, name: string): Promise<Map<string, { values: Float32Array }>> {
  const recipe = {
    format: 'amalgam.recipe',
    version: 1,
    merge: { method: 'passthrough', inputs: [{ lora: { model }, loras: [{ path: lora, strength: 1 }] }] },
    output: { path: join(dir, `${name}.safetensors`), dtype: 'fp32' },
  }
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(recipe))
  const run = await amalgam(['merge', join(dir, `${name}.json`)])
  expect(run.err.join('\n')).not.toMatch(/failed|error/i)
  expect(run.code).toBe(0)
  return readAll(join(dir, `${name}.safetensors`))
}

/** up·down·alpha/rank of a module of a written kohya LoRA, float64. */
export function loraProduct(tensors: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>, name: string): { delta: Float64Array; rank: number; alpha: number } {
  const up = tensors.get(`${name}.lora_up.weight`)
  const down = tensors.get(`${name}.lora_down.weight`)
  const alpha = tensors.get(`${name}.alpha`)?.values[0]
  if (up === undefined || down === undefined || alpha === undefined) throw new Error(`no module ${name}`)
  const rank = down.shape[0]!
  const rows = up.shape[0]!
  const inner = numelOf(down.shape) / rank
  return { delta: matmul(up.values, down.values, rows, rank, inner).map((x) => (x * alpha) / rank), rank, alpha }
}

/** ‖x − y‖ (Frobenius). */
export function distance(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2
  return Math.sqrt(s)
}
