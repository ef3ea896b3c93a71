import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { numelOf } from '../../src-main/engine/formats/dtype'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { loraDelta } from '../../src-main/engine/lora/lora-delta'
import { readLoraFile } from '../../src-main/engine/lora/lora-file'
import { matchLora } from '../../src-main/engine/lora/lora-match'
import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import { testBackend } from '../support/run-method'
import { values } from './support'

interface Matrix {
  rows: number
  cols: number
  data: Float32Array
}

function matrix(name: string, rows: number, cols: number): Matrix {
  return { rows, cols, data: values(5, name, rows * cols) }
}

function matmul64(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.rows * b.cols)
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.cols; j++) for (let r = 0; r < a.cols; r++) out[i * b.cols + j]! += a.data[i * a.cols + r]! * b.data[r * b.cols + j]!
  return out
}

async function readBack(path: string): Promise<{ file: ReturnType<typeof readLoraFile>; reader: TensorReader }> {
  const reader = new TensorReader()
  return { file: readLoraFile(await openSafetensors(path), reader), reader }
}

describe('LyCORIS', () => {
  it('LoHa: (w1a @ w1b) ⊙ (w2a @ w2b), scaled by alpha / rank', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-loha-'))
    const module = 'lora_unet_mid_block_attentions_0_proj_in'
    const [w1a, w1b, w2a, w2b] = [matrix('w1a', 6, 3), matrix('w1b', 3, 5), matrix('w2a', 6, 3), matrix('w2b', 3, 5)]
    const path = join(dir, 'loha.safetensors')
    await writeSafetensorsFile(path, [
      { key: `${module}.hada_w1_a`, dtype: 'F32', shape: [6, 3], data: w1a.data },
      { key: `${module}.hada_w1_b`, dtype: 'F32', shape: [3, 5], data: w1b.data },
      { key: `${module}.hada_w2_a`, dtype: 'F32', shape: [6, 3], data: w2a.data },
      { key: `${module}.hada_w2_b`, dtype: 'F32', shape: [3, 5], data: w2b.data },
      { key: `${module}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(1.5) },
    ])
    const { file, reader } = await readBack(path)
    try {
      expect(file.modules.map((m) => [m.factors.type, m.rank, m.scale])).toEqual([['loha', 3, 0.5]])
      const { tf } = await testBackend()
      const delta = loraDelta(tf, file.modules[0]!.factors, 1, (loc) => reader.readFloat32(loc))
      const left = matmul64(w1a, w1b)
      const right = matmul64(w2a, w2b)
      left.forEach((v, i) => expect(delta[i]).toBeCloseTo(v * right[i]!, 5))
    } finally {
      reader.close()
    }
  })

  it('LoKr: w1 ⊗ (w2a @ w2b) for a 3x3 conv, kernel elements kept together; whole factors have scale 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lokr-'))
    const module = 'lora_unet_down_blocks_1_resnets_0_conv1'
    // target [o1·o2, i1·i2, 3, 3] = [4·2, 2·3, 3, 3]
    const w1 = matrix('w1', 4, 2)
    const w2a = matrix('w2a', 2, 2)
    const w2b = matrix('w2b', 2, 3 * 9)
    const path = join(dir, 'lokr.safetensors')
    await writeSafetensorsFile(path, [
      { key: `${module}.lokr_w1`, dtype: 'F32', shape: [4, 2], data: w1.data },
      { key: `${module}.lokr_w2_a`, dtype: 'F32', shape: [2, 2], data: w2a.data },
      { key: `${module}.lokr_w2_b`, dtype: 'F32', shape: [2, 3 * 9], data: w2b.data },
      { key: `${module}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(4) },
      { key: 'lora_unet_x.lokr_w1', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
      { key: 'lora_unet_x.lokr_w2', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
      { key: 'lora_unet_x.alpha', dtype: 'F32', shape: [], data: Float32Array.of(4) },
    ])
    const { file, reader } = await readBack(path)
    try {
      expect(file.modules.map((m) => [m.factors.type, m.scale])).toEqual([
        ['lokr', 2],
        ['lokr', 1],
      ])
      const { tf } = await testBackend()
      const delta = loraDelta(tf, file.modules[0]!.factors, 9, (loc) => reader.readFloat32(loc))
      const w2 = matmul64(w2a, w2b) // [2, 3·9]
      const [o1, i1, o2, i2, k] = [4, 2, 2, 3, 9]
      expect(delta.length).toBe(o1 * o2 * i1 * i2 * k)
      for (let a = 0; a < o1; a++)
        for (let c = 0; c < o2; c++)
          for (let b = 0; b < i1; b++)
            for (let d = 0; d < i2; d++)
              for (let s = 0; s < k; s++) {
                const got = delta[(a * o2 + c) * (i1 * i2 * k) + (b * i2 + d) * k + s]
                expect(got).toBeCloseTo(w1.data[a * i1 + b]! * w2[c * i2 * k + d * k + s]!, 5)
              }
    } finally {
      reader.close()
    }
  })

  it('Tucker and DoRA modules are reported as unsupported, not applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-lyco-'))
    const path = join(dir, 'tucker.safetensors')
    const t = (key: string, shape: number[]) => ({ key, dtype: 'F32' as const, shape, data: new Float32Array(numelOf(shape)) })
    await writeSafetensorsFile(path, [
      t('lora_unet_a.lora_up.weight', [4, 2, 1, 1]),
      t('lora_unet_a.lora_down.weight', [2, 4, 1, 1]),
      t('lora_unet_a.lora_mid.weight', [2, 2, 3, 3]),
      t('lora_unet_b.lora_up.weight', [4, 2]),
      t('lora_unet_b.lora_down.weight', [2, 4]),
      t('lora_unet_b.dora_scale', [4, 1]),
    ])
    const { file, reader } = await readBack(path)
    reader.close()
    expect(file.modules).toEqual([])
    expect([...file.unsupported].sort()).toEqual(['lora_unet_a', 'lora_unet_b'])
    const tensors = new Map(syntheticLayout('sd1', { scale: 'tiny' }).map((x) => [x.key, { shape: x.shape }]))
    expect(matchLora(file, 'sd1', tensors).byKey.size).toBe(0)
  })
})
