import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import type { MergeEvent } from '../../src-main/common/events'
import type { PlanSummary } from '../../src-main/common/plan-summary'
import { Recipe, type RecipeInput } from '../../src-main/common/recipe'
import type { TensorLocator } from '../../src-main/engine/formats/checkpoint'
import type { DType } from '../../src-main/engine/formats/dtype'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { layoutSafetensors, writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { completeParams, type ScalarParam } from '../../src-main/engine/methods/params'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import type { ChannelSlice, Expr, KeyAction, KeyTask, MethodExpr, Plan, PlannedInputFile, TensorExpr } from '../../src-main/engine/plan/types'
import { LAYOUTS, refEncode } from '../formats/float-reference'

export interface InputTensor {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
  /** float values (stored as `dtype`) or raw little-endian bytes */
  readonly data: Float32Array | Uint8Array
}

export interface WrittenInput {
  readonly file: PlannedInputFile
  readonly locators: ReadonlyMap<string, TensorLocator>
}

/** Writes a small safetensors input and returns it as the planner would describe it. */
export async function writeInput(path: string, role: string, tensors: readonly InputTensor[], metadata: Record<string, string> = {}): Promise<WrittenInput> {
  await writeSafetensorsFile(path, tensors, metadata)
  return describeInput(path, role)
}

/** The planner's view of an input file as it is now (size, mtime, locators, metadata). */
export async function describeInput(path: string, role: string): Promise<WrittenInput> {
  const ckpt = await openSafetensors(path)
  const st = statSync(path)
  return {
    file: { role, path, size: st.size, mtimeMs: st.mtimeMs, architecture: 'sd1', metadata: ckpt.metadata, dataStart: ckpt.dataStart ?? null },
    locators: new Map(ckpt.tensors.map((t) => [t.key, t.locator])),
  }
}

export function locatorOf(input: WrittenInput, key: string): TensorLocator {
  const loc = input.locators.get(key)
  if (loc === undefined) throw new Error(`${input.file.path} has no ${key}`)
  return loc
}

export function leaf(locator: TensorLocator): TensorExpr {
  return { kind: 'tensor', locator }
}

export function method(
  name: string,
  inputs: readonly Expr[],
  params: Readonly<Record<string, ScalarParam>> = {},
  opts: { id?: string; node?: string; base?: Expr } = {},
): MethodExpr {
  const node = opts.node ?? 'merge'
  return {
    kind: 'method',
    id: opts.id ?? `${node}:${name}`,
    method: name,
    params: completeParams(resolveMethod(name), params, inputs.length),
    inputs,
    base: opts.base ?? null,
    node,
  }
}

export function mergeAction(expr: MethodExpr, slice: ChannelSlice | null = null): KeyAction {
  return { kind: 'merge', expr, slice }
}

export interface TaskSpec {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly action: KeyAction
  readonly block?: string | null
}

export function testRecipe(outputPath: string, overrides: Partial<RecipeInput> = {}): Recipe {
  return Recipe.parse({
    format: 'amalgam.recipe',
    version: 1,
    merge: { method: 'weighted_sum', inputs: [{ model: '/models/a.safetensors' }, { model: '/models/b.safetensors' }], params: { alpha: 0.3 } },
    output: { path: outputPath },
    ...overrides,
  })
}

export interface PlanSpec {
  readonly recipe: Recipe
  readonly inputs: readonly PlannedInputFile[]
  readonly tasks: readonly TaskSpec[]
  readonly metadata?: Readonly<Record<string, string>>
  readonly reserveMetadataBytes?: number
  readonly sidecarYaml?: string | null
  readonly overwrite?: boolean
}

/** A hand-built plan: tasks in the given (file) order with the offsets a safetensors layout gives them. */
export function makePlan(spec: PlanSpec): Plan {
  const layout = layoutSafetensors(spec.tasks)
  const tasks: KeyTask[] = spec.tasks.map((t, index) => {
    const { begin, end } = layout.offsets.get(t.key)!
    return { index, key: t.key, dtype: t.dtype, shape: t.shape, action: t.action, block: t.block ?? null, begin, end, inputBytes: end - begin }
  })
  const summary: PlanSummary = {
    architecture: 'sd1',
    blockConvention: { name: 'supermerger', version: '2025-11' },
    inputs: spec.inputs.map((i) => ({ role: i.role, path: i.path, architecture: i.architecture, predictionType: 'eps', size: i.size })),
    counts: { keys: tasks.length, merged: tasks.filter((t) => t.action.kind === 'merge').length, copied: 0, dropped: 0, missing: 0, shapeMismatches: 0 },
    outputPath: spec.recipe.output.path,
    outputDType: 'fp16',
    outputBytes: layout.totalBytes,
    freeDiskBytes: null,
    estimatedPeakBytes: 0,
    estimatedSeconds: 0,
    backend: 'wasm',
    findings: [],
    ok: true,
  }
  return {
    recipe: spec.recipe,
    summary,
    output: {
      path: spec.recipe.output.path,
      metadata: spec.metadata ?? {},
      reserveMetadataBytes: spec.reserveMetadataBytes ?? 4096,
      overwrite: spec.overwrite ?? false,
      sidecarYaml: spec.sidecarYaml ?? null,
    },
    tasks,
    seed: spec.recipe.seed,
    inputs: spec.inputs,
  }
}

export function recordEvents(): { events: MergeEvent[]; onEvent: (e: MergeEvent) => void } {
  const events: MergeEvent[] = []
  return { events, onEvent: (e) => events.push(e) }
}

/** Deterministic pseudo-random floats in [-scale, scale) (mulberry32), so expected values never depend on luck. */
export function seededFloats(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale
  }
  return out
}

/** Float values as the stored bytes of `dtype`, by the naive reference encoder (F32: as float32). */
export function storedBytes(dtype: 'F16' | 'F32', values: ArrayLike<number>): Uint8Array {
  const size = dtype === 'F16' ? 2 : 4
  const out = new Uint8Array(values.length * size)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'F16') view.setUint16(i * 2, refEncode(LAYOUTS.F16, values[i]!), true)
    else view.setFloat32(i * 4, values[i]!, true)
  }
  return out
}

/** What a float32 value reads back as from an F16 file, by the naive reference. */
export function viaF16(values: ArrayLike<number>): number[] {
  const bytes = storedBytes('F16', values)
  const view = new DataView(bytes.buffer)
  const out: number[] = []
  for (let i = 0; i < values.length; i++) {
    const code = view.getUint16(i * 2, true)
    const sign = code & 0x8000 ? -1 : 1
    const exp = (code >> 10) & 0x1f
    const man = code & 0x3ff
    out.push(exp === 0 ? sign * man * 2 ** -24 : sign * (1 + man / 1024) * 2 ** (exp - 15))
  }
  return out
}

/** An output file split into its header JSON and data section, read directly from the bytes. */
export function readOutput(path: string): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; metadata: Record<string, string>; data: Buffer } {
  const bytes = readFileSync(path)
  const headerLength = Number(bytes.readBigUInt64LE(0))
  const parsed = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>
  const { __metadata__: metadata, ...header } = parsed
  return {
    header: header as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>,
    metadata: (metadata ?? {}) as Record<string, string>,
    data: bytes.subarray(8 + headerLength),
  }
}

export function tensorBytes(output: ReturnType<typeof readOutput>, key: string): Uint8Array {
  const entry = output.header[key]
  if (entry === undefined) throw new Error(`the output has no ${key}`)
  return new Uint8Array(output.data.subarray(entry.data_offsets[0], entry.data_offsets[1]))
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** torch.lerp's value in float64: what weighted_sum computes before the float32 store. */
export function lerp64(a: number, b: number, alpha: number): number {
  return a * (1 - alpha) + b * alpha
}
