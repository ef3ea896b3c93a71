import { truncateSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TensorLocator } from '../../src-main/engine/formats/checkpoint'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { writeSafetensorsFile, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { LAYOUTS, refDecode } from './float-reference'
import { expectAmalgamError, useTempDir } from './support'

const tempDir = useTempDir()
let reader = new TensorReader()
afterEach(() => {
  reader.close()
  reader = new TensorReader()
})

async function fileWith(tensors: readonly TensorToWrite[]): Promise<Map<string, TensorLocator>> {
  const path = join(tempDir(), 'model.safetensors')
  await writeSafetensorsFile(path, tensors)
  const ckpt = await openSafetensors(path)
  return new Map(ckpt.tensors.map((t) => [t.key, t.locator]))
}

describe('TensorReader.readFloat32', () => {
  it('decodes any element range, into a given array or a new one', async () => {
    const values = Float32Array.from({ length: 10 }, (_, i) => i - 4.5)
    const locs = await fileWith([{ key: 'model.diffusion_model.out.2.bias', dtype: 'F16', shape: [2, 5], data: values }])
    const loc = locs.get('model.diffusion_model.out.2.bias')!
    expect([...reader.readFloat32(loc)]).toEqual([...values])
    expect([...reader.readFloat32(loc, 3, 7)]).toEqual([...values.slice(3, 7)])
    expect([...reader.readFloat32(loc, 4, 4)]).toEqual([])
    const into = new Float32Array(8).fill(9)
    const got = reader.readFloat32(loc, 8, 10, into)
    expect([...got]).toEqual([3.5, 4.5])
    expect(into[2]).toBe(9)
  })

  it('reads tensors larger than its chunk size correctly across chunk boundaries', async () => {
    const n = 2_500_000 // 5 MB of bf16: more than one 4 MiB read
    const codes = Uint16Array.from({ length: n }, (_, i) => (i * 7919) & 0x7f7f)
    const locs = await fileWith([{ key: 'model.embed_tokens.weight', dtype: 'BF16', shape: [n], data: new Uint8Array(codes.buffer) }])
    const loc = locs.get('model.embed_tokens.weight')!
    const expectedAt = (i: number): number => Math.fround(refDecode(LAYOUTS.BF16, codes[i]!))
    const all = reader.readFloat32(loc)
    for (const i of [0, 1, 2_097_151, 2_097_152, 2_097_153, n - 1]) expect(all[i], `element ${i}`).toBe(expectedAt(i))
    let mismatches = 0
    for (let i = 0; i < n; i++) if (all[i] !== expectedAt(i)) mismatches++
    expect(mismatches).toBe(0)
    const middle = reader.readFloat32(loc, 2_097_000, 2_097_400)
    expect([...middle]).toEqual(Array.from({ length: 400 }, (_, k) => expectedAt(2_097_000 + k)))
  })

  it('applies big-endian byte order (torch files may declare it)', async () => {
    const bigEndianF32 = new Uint8Array(8)
    new DataView(bigEndianF32.buffer).setFloat32(0, 1.25, false)
    new DataView(bigEndianF32.buffer).setFloat32(4, -3, false)
    const bigEndianI16 = Uint8Array.of(0x01, 0x02, 0xff, 0xfe)
    const locs = await fileWith([
      { key: 'w', dtype: 'F32', shape: [2], data: bigEndianF32 },
      { key: 'ids', dtype: 'I16', shape: [2], data: bigEndianI16 },
    ])
    const w = { ...locs.get('w')!, byteOrder: 'big' as const }
    expect([...reader.readFloat32(w)]).toEqual([1.25, -3])
    expect([...reader.readFloat32(w, 1, 2)]).toEqual([-3])
    const ids = { ...locs.get('ids')!, byteOrder: 'big' as const }
    expect([...reader.readBytes(ids)]).toEqual([0x02, 0x01, 0xfe, 0xff])
    expect([...reader.readFloat32(ids)]).toEqual([0x0102, -2])
  })
})

describe('strided views (torch non-contiguous tensors)', () => {
  const storage = Float32Array.from({ length: 12 }, (_, i) => i * 10)

  async function storageLocator(dtype: 'F32' | 'F16' = 'F32'): Promise<TensorLocator> {
    const locs = await fileWith([
      { key: 'before', dtype: 'F32', shape: [3], data: Float32Array.of(-1, -1, -1) },
      { key: 'storage', dtype, shape: [12], data: storage },
      { key: 'after', dtype: 'F32', shape: [1], data: Float32Array.of(-1) },
    ])
    return locs.get('storage')!
  }

  /** Naive view indexing: element at multi-index (C order) = storage[offset + Σ index·stride]. */
  function naiveView(shape: number[], strides: number[], storageOffset: number): number[] {
    const out: number[] = []
    const total = shape.reduce((a, b) => a * b, 1)
    for (let flat = 0; flat < total; flat++) {
      let rest = flat
      let at = storageOffset
      for (let d = shape.length - 1; d >= 0; d--) {
        at += (rest % shape[d]!) * strides[d]!
        rest = Math.floor(rest / shape[d]!)
      }
      out.push(storage[at]!)
    }
    return out
  }

  const views = [
    { name: 'transpose [4,3] of a [3,4] storage', shape: [4, 3], strides: [1, 4], storageOffset: 0 },
    { name: 'narrowed slice with a storage offset', shape: [2, 2], strides: [3, 1], storageOffset: 2 },
    { name: 'expanded (stride 0)', shape: [3, 2], strides: [0, 1], storageOffset: 5 },
    { name: 'every other element', shape: [3], strides: [4], storageOffset: 1 },
    { name: 'scalar view', shape: [], strides: [], storageOffset: 7 },
  ]

  it.each(views)('$name', async ({ shape, strides, storageOffset }) => {
    const base = await storageLocator()
    const expected = naiveView(shape, strides, storageOffset)
    const highest = shape.reduce((acc, d, i) => acc + (d - 1) * strides[i]!, 0)
    const loc: TensorLocator = { ...base, key: 'view', shape, strides, offset: base.offset + storageOffset * 4, byteLength: (highest + 1) * 4 }
    expect([...reader.readFloat32(loc)]).toEqual(expected)
    for (let start = 0; start <= expected.length; start++) {
      expect([...reader.readFloat32(loc, start, expected.length)]).toEqual(expected.slice(start))
    }
    const bytes = reader.readBytes(loc)
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)]).toEqual(expected)
  })

  it('gathers 2-byte elements and treats contiguous strides as contiguous', async () => {
    const base = await storageLocator('F16')
    const transposed: TensorLocator = { ...base, shape: [4, 3], strides: [1, 4] }
    expect([...reader.readFloat32(transposed)]).toEqual(naiveView([4, 3], [1, 4], 0))
    const plain: TensorLocator = { ...base, shape: [3, 4], strides: [4, 1] }
    expect([...reader.readFloat32(plain)]).toEqual([...storage])
  })
})

describe('read errors name the file and the tensor', () => {
  it('reports a file that shrank after it was opened', async () => {
    const locs = await fileWith([
      { key: 'a', dtype: 'F32', shape: [4], data: new Float32Array(4) },
      { key: 'model.diffusion_model.out.2.weight', dtype: 'F16', shape: [8], data: new Float32Array(8) },
    ])
    const a = locs.get('a')!
    const last = locs.get('model.diffusion_model.out.2.weight')!
    reader.readFloat32(a)
    truncateSync(a.path, last.offset + 4)
    await expectAmalgamError(() => reader.readFloat32(last), 'FILE_UNREADABLE', a.path, /tensor "model.diffusion_model.out.2.weight": expected 16 bytes at offset \d+ but the file ends at \d+/)
    await expectAmalgamError(() => reader.readBytes(last), 'FILE_UNREADABLE', a.path, /tensor "model.diffusion_model.out.2.weight": expected 16 bytes/)
  })

  it('reports a missing file and an element range outside the tensor', async () => {
    const locs = await fileWith([{ key: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) }])
    const w = locs.get('w')!
    const gone: TensorLocator = { ...w, path: join(tempDir(), 'moved.safetensors') }
    await expectAmalgamError(() => reader.readFloat32(gone), 'FILE_NOT_FOUND', gone.path, /tensor "w": file not found/)
    await expectAmalgamError(() => reader.readFloat32(w, 1, 3), 'INTERNAL', w.path, /element range \[1, 3\) is outside 0..2/)
  })
})
