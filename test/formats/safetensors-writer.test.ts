import fc from 'fast-check'
import { closeSync, existsSync, linkSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DTYPES, dtypeSize, isFloatDType, numelOf, type DType } from '../../src-main/engine/formats/dtype'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { layoutSafetensors, SafetensorsFileWriter, writeSafetensorsFile, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { LAYOUTS, refDecode, refEncode } from './float-reference'
import { amalgamErrorOf, expectAmalgamError, useTempDir } from './support'

const tempDir = useTempDir()

/** What a float32 value reads back as after being stored as `dtype`, by the naive reference. */
function storedValue(dtype: DType, x: number): number {
  if (dtype === 'F32' || dtype === 'F64') return x
  if (dtype === 'F16' || dtype === 'BF16' || dtype === 'F8_E4M3' || dtype === 'F8_E5M2') {
    const code = refEncode(LAYOUTS[dtype], x)
    return code < 0 ? NaN : Math.fround(refDecode(LAYOUTS[dtype], code))
  }
  throw new Error(`${dtype} is not a float dtype`)
}

const tensorArb = fc
  .record({ dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.nat({ max: 5 }), { maxLength: 3 }) })
  .chain(({ dtype, shape }) => {
    const n = numelOf(shape)
    const data = isFloatDType(dtype)
      ? fc.float32Array({ minLength: n, maxLength: n })
      : fc.uint8Array({ minLength: n * dtypeSize(dtype), maxLength: n * dtypeSize(dtype) })
    return data.map((d) => ({ dtype, shape, data: d as Float32Array | Uint8Array }))
  })

const keyArb = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => k !== '__metadata__')

describe('write → open → read round trip', () => {
  it('keeps keys (unicode), order, dtypes, shapes (incl. [] and zero-size), metadata and values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(keyArb, tensorArb), { selector: ([k]) => k, maxLength: 6 }),
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 16 }), { maxKeys: 4 }),
        async (entries, metadata) => {
          const path = join(tempDir(), 'round-trip.safetensors')
          const tensors: TensorToWrite[] = entries.map(([key, t]) => ({ key, ...t }))
          await writeSafetensorsFile(path, tensors, metadata)
          const ckpt = await openSafetensors(path)
          expect(ckpt.metadata).toEqual({ ...metadata, format: 'pt' })
          expect(ckpt.tensors.map((t) => [t.key, t.dtype, t.shape])).toEqual(tensors.map((t) => [t.key, t.dtype, t.shape]))
          const reader = new TensorReader()
          try {
            for (const [i, t] of tensors.entries()) {
              const loc = ckpt.tensors[i]!.locator
              if (t.data instanceof Float32Array) {
                const expected = [...t.data].map((x) => storedValue(t.dtype, x))
                expect([...reader.readFloat32(loc)], t.key).toEqual(expected)
              } else {
                expect([...reader.readBytes(loc)], t.key).toEqual([...t.data])
              }
            }
          } finally {
            reader.close()
          }
        },
      ),
      { numRuns: 120 },
    )
  })
})

describe('layoutSafetensors', () => {
  it('keeps the given key order (integer-like names too), packs offsets, pads the header with spaces to 8 bytes', () => {
    const tensors = [
      { key: 'b', dtype: 'F16', shape: [3] },
      { key: '10', dtype: 'I64', shape: [] },
      { key: '2', dtype: 'U8', shape: [0, 4] },
      { key: 'a', dtype: 'F32', shape: [2, 1] },
    ] as const
    const layout = layoutSafetensors(tensors, { '7': 'seven', name: 'x' })
    const n = Number(new DataView(layout.headerBytes.buffer).getBigUint64(0, true))
    expect(n % 8).toBe(0)
    expect(layout.dataStart).toBe(8 + n)
    const text = new TextDecoder().decode(layout.headerBytes.subarray(8))
    expect(text).toMatch(/^\{.*\} *$/)
    expect([...text.matchAll(/"(b|10|2|a)":\{/g)].map((m) => m[1])).toEqual(['b', '10', '2', 'a'])
    expect(JSON.parse(text).__metadata__).toEqual({ '7': 'seven', name: 'x', format: 'pt' })
    expect([...layout.offsets]).toEqual([
      ['b', { begin: 0, end: 6 }],
      ['10', { begin: 6, end: 14 }],
      ['2', { begin: 14, end: 14 }],
      ['a', { begin: 14, end: 22 }],
    ])
    expect(layout.totalBytes).toBe(layout.dataStart + 22)
  })

  it('reserves header space for metadata and always says format "pt"', () => {
    const plain = layoutSafetensors([], { format: 'np' })
    const reserved = layoutSafetensors([], { format: 'np' }, { reserveMetadataBytes: 300 })
    expect(JSON.parse(new TextDecoder().decode(plain.headerBytes.subarray(8))).__metadata__).toEqual({ format: 'pt' })
    expect(reserved.dataStart - plain.dataStart).toBeGreaterThanOrEqual(300 - 8)
    expect(reserved.dataStart % 8).toBe(0)
  })

  it('refuses duplicate names, a tensor named __metadata__ and bad shapes', async () => {
    expect((await amalgamErrorOf(() => layoutSafetensors([{ key: 'a', dtype: 'F16', shape: [1] }, { key: 'a', dtype: 'F16', shape: [1] }]))).code).toBe('BAD_ARGUMENT')
    expect((await amalgamErrorOf(() => layoutSafetensors([{ key: '__metadata__', dtype: 'F16', shape: [1] }]))).code).toBe('BAD_ARGUMENT')
    expect((await amalgamErrorOf(() => layoutSafetensors([{ key: 'a', dtype: 'F16', shape: [-1] }]))).code).toBe('BAD_ARGUMENT')
  })
})

const UNET_KEY = 'model.diffusion_model.input_blocks.0.0.weight'
const planned = [
  { key: UNET_KEY, dtype: 'F16', shape: [2, 2] },
  { key: 'cond_stage_model.transformer.text_model.embeddings.position_ids', dtype: 'I64', shape: [1, 3] },
] as const
const positionIds = new Uint8Array(BigInt64Array.of(0n, 1n, 2n).buffer)

describe('SafetensorsFileWriter lifecycle', () => {
  it('writes through <path>.partial; nothing exists under the final name before finish', async () => {
    const path = join(tempDir(), 'merged.safetensors')
    const writer = await SafetensorsFileWriter.create(path, planned, { modelspec: 'x' })
    expect(writer.partialPath).toBe(`${path}.partial`)
    expect(existsSync(writer.partialPath)).toBe(true)
    await writer.writeTensor(UNET_KEY, Float32Array.of(1, 2, 3, 4))
    await writer.writeTensorBytes(planned[1].key, positionIds)
    expect(existsSync(path)).toBe(false)
    await writer.finish()
    expect(existsSync(path)).toBe(true)
    expect(existsSync(writer.partialPath)).toBe(false)
    const ckpt = await openSafetensors(path)
    expect(ckpt.metadata).toEqual({ modelspec: 'x', format: 'pt' })
    await writer.abort()
    expect(existsSync(path)).toBe(true)
  })

  it('lets other writers put bytes at positionFor(key) in the partial file', async () => {
    const path = join(tempDir(), 'threads.safetensors')
    const writer = await SafetensorsFileWriter.create(path, planned)
    const fd = openSync(writer.partialPath, 'r+')
    writeSync(fd, positionIds, 0, positionIds.length, writer.positionFor(planned[1].key))
    const fp16 = new Uint8Array(Uint16Array.of(0x3c00, 0x4000, 0x4200, 0x4400).buffer)
    writeSync(fd, fp16, 0, fp16.length, writer.positionFor(UNET_KEY))
    closeSync(fd)
    await writer.finish()
    const ckpt = await openSafetensors(path)
    const reader = new TensorReader()
    try {
      expect([...reader.readFloat32(ckpt.tensors[0]!.locator)]).toEqual([1, 2, 3, 4])
      expect([...reader.readBytes(ckpt.tensors[1]!.locator)]).toEqual([...positionIds])
    } finally {
      reader.close()
    }
  })

  it('abort removes the partial file and is safe to call twice', async () => {
    const path = join(tempDir(), 'aborted.safetensors')
    const writer = await SafetensorsFileWriter.create(path, planned)
    await writer.writeTensor(UNET_KEY, Float32Array.of(1, 2, 3, 4))
    await writer.abort()
    await writer.abort()
    expect(existsSync(writer.partialPath)).toBe(false)
    expect(existsSync(path)).toBe(false)
    expect((await amalgamErrorOf(writer.writeTensor(UNET_KEY, new Float32Array(4)))).code).toBe('INTERNAL')
  })

  it('patches metadata into the reserved space at finish, and fails cleanly when it does not fit', async () => {
    const dir = tempDir()
    const path = join(dir, 'patched.safetensors')
    const writer = await SafetensorsFileWriter.create(path, planned, { 'amalgam.recipe': '{}' }, { reserveMetadataBytes: 128 })
    await writer.writeTensor(UNET_KEY, Float32Array.of(1, 2, 3, 4))
    await writer.writeTensorBytes(planned[1].key, positionIds)
    await writer.finish({ 'amalgam.output_sha256': 'ab'.repeat(32) })
    const ckpt = await openSafetensors(path)
    expect(ckpt.metadata).toEqual({ 'amalgam.recipe': '{}', format: 'pt', 'amalgam.output_sha256': 'ab'.repeat(32) })

    const tight = join(dir, 'tight.safetensors')
    const small = await SafetensorsFileWriter.create(tight, planned, {}, { reserveMetadataBytes: 8 })
    await small.writeTensor(UNET_KEY, Float32Array.of(1, 2, 3, 4))
    await small.writeTensorBytes(planned[1].key, positionIds)
    await expectAmalgamError(small.finish({ long: 'x'.repeat(200) }), 'INTERNAL', tight, /the final metadata needs \d+ header bytes, only \d+ were reserved/)
    await small.abort()
    expect(existsSync(`${tight}.partial`)).toBe(false)
    expect(existsSync(tight)).toBe(false)
  })

  it('refuses to finish a file with tensors missing', async () => {
    const path = join(tempDir(), 'incomplete.safetensors')
    const writer = await SafetensorsFileWriter.create(path, planned)
    await writer.writeTensor(UNET_KEY, Float32Array.of(1, 2, 3, 4))
    await expectAmalgamError(writer.finish(), 'INTERNAL', `${path}.partial`, /not every tensor was written/)
    await writer.abort()
    expect(existsSync(`${path}.partial`)).toBe(false)
  })

  it('checks tensor sizes and dtypes of what is written', async () => {
    const writer = await SafetensorsFileWriter.create(join(tempDir(), 'sizes.safetensors'), planned)
    try {
      expect((await amalgamErrorOf(writer.writeTensor(UNET_KEY, new Float32Array(3)))).code).toBe('INTERNAL')
      expect((await amalgamErrorOf(writer.writeTensor(planned[1].key, new Float32Array(3)))).message).toMatch(/is I64; write its bytes with writeTensorBytes/)
      expect((await amalgamErrorOf(writer.writeTensorBytes(planned[1].key, new Uint8Array(3)))).code).toBe('INTERNAL')
      expect((await amalgamErrorOf(() => writer.positionFor('missing'))).code).toBe('INTERNAL')
    } finally {
      await writer.abort()
    }
  })
})

describe('output safety', () => {
  async function inputFile(dir: string): Promise<string> {
    const input = join(dir, 'v1-5-pruned-emaonly.safetensors')
    await writeSafetensorsFile(input, [{ key: UNET_KEY, dtype: 'F16', shape: [1], data: Float32Array.of(1) }])
    return input
  }

  it('never overwrites an input: same path, relative path, symlink or hard link, even with overwrite', async () => {
    const dir = tempDir()
    const input = await inputFile(dir)
    const before = readFileSync(input)
    const symlink = join(dir, 'link.safetensors')
    symlinkSync(input, symlink)
    const hardlink = join(dir, 'hard.safetensors')
    linkSync(input, hardlink)
    for (const output of [input, relative(process.cwd(), input), symlink, hardlink]) {
      await expectAmalgamError(SafetensorsFileWriter.create(output, planned, {}, { inputs: [input], overwrite: true }), 'OUTPUT_IS_INPUT', output, /would overwrite the input/)
    }
    await expectAmalgamError(SafetensorsFileWriter.create(input, planned, {}, { inputs: [symlink], overwrite: true }), 'OUTPUT_IS_INPUT', input, /would overwrite the input/)
    expect(readFileSync(input)).toEqual(before)
    expect(existsSync(`${input}.partial`)).toBe(false)
  })

  it('refuses an existing output unless overwrite is set, then replaces it', async () => {
    const dir = tempDir()
    const input = await inputFile(dir)
    const output = join(dir, 'merged.safetensors')
    writeFileSync(output, 'old')
    await expectAmalgamError(writeSafetensorsFile(output, [], {}, { inputs: [input] }), 'OUTPUT_EXISTS', output, /already exists/)
    expect(readFileSync(output, 'utf8')).toBe('old')
    await writeSafetensorsFile(output, [], { replaced: 'yes' }, { inputs: [input], overwrite: true })
    expect((await openSafetensors(output)).metadata).toEqual({ replaced: 'yes', format: 'pt' })
  })

  it('refuses when a partial file already exists (another merge may be writing it) unless overwriting', async () => {
    const dir = tempDir()
    const output = join(dir, 'merged.safetensors')
    writeFileSync(`${output}.partial`, 'someone else')
    await expectAmalgamError(SafetensorsFileWriter.create(output, planned), 'OUTPUT_EXISTS', `${output}.partial`, /a partial output already exists/)
    expect(readFileSync(`${output}.partial`, 'utf8')).toBe('someone else')
    await writeSafetensorsFile(output, [], {}, { overwrite: true })
    expect(existsSync(`${output}.partial`)).toBe(false)
    expect(existsSync(output)).toBe(true)
  })
})
