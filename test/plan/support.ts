import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { RecipeInput, Recipe } from '../../src-main/common/recipe'
import type { LayoutArchitecture } from '../../src-main/engine/arch/layouts'
import { syntheticLayout, syntheticValues, type SyntheticOptions } from '../../src-main/engine/arch/synthetic'
import { isFloatDType, numelOf, type DType, type FloatDType } from '../../src-main/engine/formats/dtype'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { writeSafetensorsFile, type PlannedTensor, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { planRecipe, type PlanOptions } from '../../src-main/engine/plan/plan-recipe'
import type { KeyTask, Plan } from '../../src-main/engine/plan/types'
import { parseRecipe } from '../../src-main/engine/recipe/parse'

/** Real SD1 key names used across the planner tests. */
export const K = {
  in00: 'model.diffusion_model.input_blocks.0.0.weight',
  in04: 'model.diffusion_model.input_blocks.4.1.proj_in.weight',
  in05: 'model.diffusion_model.input_blocks.5.0.in_layers.2.weight',
  mid: 'model.diffusion_model.middle_block.1.proj_out.weight',
  out11: 'model.diffusion_model.output_blocks.11.1.proj_out.weight',
  outConv: 'model.diffusion_model.out.2.weight',
  timeEmbed: 'model.diffusion_model.time_embed.0.weight',
  clipQ: 'cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight',
  positionIds: 'cond_stage_model.transformer.text_model.embeddings.position_ids',
  vaeConvIn: 'first_stage_model.decoder.conv_in.weight',
  vaeEncoderConv: 'first_stage_model.encoder.conv_in.weight',
  scheduler: 'alphas_cumprod',
} as const

export interface ModelSpec {
  readonly arch?: LayoutArchitecture
  readonly seed: number
  readonly synthetic?: Omit<SyntheticOptions, 'scale'>
  /** float tensors stored in this dtype (default the layout's, fp16) */
  readonly dtype?: FloatDType
  /** keys left out */
  readonly drop?: (key: string) => boolean
  readonly reshape?: Readonly<Record<string, number[]>>
  readonly retype?: Readonly<Record<string, DType>>
  readonly add?: readonly PlannedTensor[]
  /** exact values (float) or stored bytes (integer) for some keys */
  readonly values?: Readonly<Record<string, Float32Array | Uint8Array>>
  readonly metadata?: Readonly<Record<string, string>>
}

/** A tiny synthetic checkpoint with real key names; float values depend on (seed, key) only. */
export async function writeModel(path: string, spec: ModelSpec): Promise<string> {
  let layout = syntheticLayout(spec.arch ?? 'sd1', { scale: 'tiny', includeOptional: true, ...spec.synthetic })
  if (spec.drop) layout = layout.filter((t) => !spec.drop!(t.key))
  layout = layout.map((t) => ({
    ...t,
    shape: spec.reshape?.[t.key] ?? t.shape,
    dtype: spec.retype?.[t.key] ?? (spec.dtype !== undefined && isFloatDType(t.dtype) ? spec.dtype : t.dtype),
  }))
  layout.push(...(spec.add ?? []))
  const tensors: TensorToWrite[] = layout.map((t) => ({ ...t, data: spec.values?.[t.key] ?? defaultData(t, spec.seed) }))
  await writeSafetensorsFile(path, tensors, spec.metadata ?? {})
  return path
}

function defaultData(t: PlannedTensor, seed: number): Float32Array | Uint8Array {
  if (isFloatDType(t.dtype)) return syntheticValues(t, seed)
  // integers count 0, 1, 2, ... along the last axis, as position ids do
  return int64Bytes(Array.from({ length: numelOf(t.shape) }, (_, i) => i % (t.shape.at(-1) ?? 1)), t.dtype)
}

export function int64Bytes(values: readonly number[], dtype: DType = 'I64'): Uint8Array {
  const size = dtype === 'I64' ? 8 : dtype === 'I32' ? 4 : 1
  const bytes = new Uint8Array(values.length * size)
  const view = new DataView(bytes.buffer)
  values.forEach((v, i) => {
    if (size === 8) view.setBigInt64(i * 8, BigInt(v), true)
    else if (size === 4) view.setInt32(i * 4, v, true)
    else view.setUint8(i, v)
  })
  return bytes
}

export function recipeOf(input: Omit<RecipeInput, 'format' | 'version'>): Recipe {
  return parseRecipe({ format: 'amalgam.recipe', version: 1, ...input })
}

export async function plan(dir: string, input: Omit<RecipeInput, 'format' | 'version'>, opts: PlanOptions = {}): Promise<Plan> {
  return planRecipe(recipeOf(input), { cwd: dir, ...opts })
}

export function taskOf(p: Plan, key: string): KeyTask {
  const task = p.tasks.find((t) => t.key === key)
  if (task === undefined) throw new Error(`no task for ${key}`)
  return task
}

/** The merge expression of a key's task. */
export function mergeOf(p: Plan, key: string) {
  const action = taskOf(p, key).action
  if (action.kind !== 'merge') throw new Error(`${key} is not merged but ${action.kind}`)
  return action
}

export function findingCodes(p: Plan): string[] {
  return p.summary.findings.map((f) => `${f.severity}:${f.code}`)
}

/** Every tensor of a safetensors file, decoded to float32 (integers too: they are small). */
export async function readAll(path: string): Promise<Map<string, { dtype: DType; shape: readonly number[]; values: Float32Array }>> {
  const checkpoint = await openSafetensors(path)
  const reader = new TensorReader()
  try {
    return new Map(checkpoint.tensors.map((t) => [t.key, { dtype: t.dtype, shape: t.shape, values: reader.readFloat32(t.locator) }]))
  } finally {
    reader.close()
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** torch.lerp in float64, the reference for weighted_sum. */
export function lerp64(a: number, b: number, w: number): number {
  return Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 2e-6, abs = 1e-7): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`)
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i]!
    const d = Math.abs(actual[i]! - e)
    if (!(d <= abs + rel * Math.abs(e))) throw new Error(`element ${i}: ${actual[i]} vs expected ${e}`)
  }
}
