import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import type { LayoutArchitecture } from '../../src-main/engine/arch/layouts'
import { deriveRng } from '../../src-main/engine/compute/rng'
import { numelOf } from '../../src-main/engine/formats/dtype'
import { writeSafetensorsFile, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'

/** The tiny synthetic layout's shape of a key. */
export function shapeOf(arch: LayoutArchitecture, key: string): number[] {
  const t = syntheticLayout(arch, { scale: 'tiny' }).find((x) => x.key === key)
  if (t === undefined) throw new Error(`no ${key} in the synthetic ${arch} layout`)
  return [...t.shape]
}

/** Deterministic small values (uniform in ±0.5) for a factor. */
export function values(seed: number, name: string, count: number): Float32Array {
  const rng = deriveRng(seed, name, 'lora-test', 0)
  return Float32Array.from({ length: count }, () => rng.uniform() - 0.5)
}

/** One kohya / PEFT LoRA module: factors written under `names.up` / `names.down`, with an alpha when given. */
export interface TestModule {
  /** tensor names of the factors (the format decides them) */
  readonly up: string
  readonly down: string
  readonly alpha?: string
  readonly upShape: readonly number[]
  readonly downShape: readonly number[]
  readonly alphaValue?: number
}

export interface WrittenModule extends TestModule {
  readonly upData: Float32Array
  readonly downData: Float32Array
}

export function kohya(module: string, rows: number, inner: readonly number[], rank: number, alpha?: number, conv = false): TestModule {
  return {
    up: `${module}.lora_up.weight`,
    down: `${module}.lora_down.weight`,
    ...(alpha === undefined ? {} : { alpha: `${module}.alpha`, alphaValue: alpha }),
    upShape: conv ? [rows, rank, 1, 1] : [rows, rank],
    downShape: [rank, ...inner],
  }
}

export function peft(module: string, rows: number, inner: readonly number[], rank: number): TestModule {
  return { up: `${module}.lora_B.weight`, down: `${module}.lora_A.weight`, upShape: [rows, rank], downShape: [rank, ...inner] }
}

export async function writeLora(path: string, modules: readonly TestModule[], seed: number, metadata: Record<string, string> = {}): Promise<WrittenModule[]> {
  const tensors: TensorToWrite[] = []
  const written = modules.map((m) => {
    const upData = values(seed, m.up, numelOf(m.upShape))
    const downData = values(seed, m.down, numelOf(m.downShape))
    tensors.push({ key: m.up, dtype: 'F32', shape: m.upShape, data: upData }, { key: m.down, dtype: 'F32', shape: m.downShape, data: downData })
    if (m.alpha !== undefined) tensors.push({ key: m.alpha, dtype: 'F32', shape: [], data: Float32Array.of(m.alphaValue ?? 0) })
    return { ...m, upData, downData }
  })
  await writeSafetensorsFile(path, tensors, metadata)
  return written
}

/** Naive float64 up @ down, flattened: the independent reference. */
export function naiveDelta(m: WrittenModule): Float64Array {
  const rows = m.upShape[0]!
  const rank = m.downShape[0]!
  const inner = numelOf(m.downShape) / rank
  const out = new Float64Array(rows * inner)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < inner; j++) {
      let s = 0
      for (let r = 0; r < rank; r++) s += m.upData[i * rank + r]! * m.downData[r * inner + j]!
      out[i * inner + j] = s
    }
  }
  return out
}
