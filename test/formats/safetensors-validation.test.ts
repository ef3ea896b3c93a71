import { mkdirSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../src-main/engine/errors'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { craftSafetensors, expectAmalgamError, useTempDir, writeBytes } from './support'

const tempDir = useTempDir()

const f32 = (begin: number, end: number, shape: number[] = [(end - begin) / 4]): object => ({ dtype: 'F32', shape, data_offsets: [begin, end] })
const bytes = (n: number): Uint8Array => new Uint8Array(n)
const prefixOnly = (declared: bigint, fileLength: number): Uint8Array => {
  const out = new Uint8Array(fileLength)
  new DataView(out.buffer).setBigUint64(0, declared, true)
  return out
}

interface Case {
  readonly name: string
  readonly file: () => Uint8Array
  readonly code: ErrorCode
  readonly message: RegExp
}

const CASES: readonly Case[] = [
  { name: 'empty file', file: () => bytes(0), code: 'BAD_HEADER', message: /file is 0 bytes, too short for the 8-byte header length/ },
  { name: 'file shorter than 8 bytes', file: () => bytes(5), code: 'BAD_HEADER', message: /file is 5 bytes, too short/ },
  { name: 'header length 2^63', file: () => prefixOnly(2n ** 63n, 16), code: 'BAD_HEADER', message: /header length 9223372036854775808 is larger than the 100000000-byte limit/ },
  { name: 'header length 2^64 - 1', file: () => prefixOnly(2n ** 64n - 1n, 8), code: 'BAD_HEADER', message: /header length 18446744073709551615 is larger than the 100000000-byte limit/ },
  { name: 'header length just over 100 MB', file: () => prefixOnly(100_000_001n, 64), code: 'BAD_HEADER', message: /larger than the 100000000-byte limit/ },
  { name: 'header length larger than the file', file: () => craftSafetensors('{}', bytes(0), 99_000_000n), code: 'BAD_HEADER', message: /header length 99000000 is larger than the rest of the file \(2 bytes\)/ },
  { name: 'header not UTF-8', file: () => craftSafetensors(Uint8Array.of(0x7b, 0xff, 0x7d)), code: 'BAD_HEADER', message: /header is not valid UTF-8/ },
  { name: 'header not JSON', file: () => craftSafetensors('{"a": '), code: 'BAD_HEADER', message: /header is not valid JSON \(/ },
  { name: 'header with a byte order mark', file: () => craftSafetensors('\uFEFF{}'), code: 'BAD_HEADER', message: /header is not valid JSON/ },
  { name: 'header padded with NUL bytes', file: () => craftSafetensors('{}\0\0\0\0\0\0'), code: 'BAD_HEADER', message: /header is not valid JSON/ },
  { name: 'header is a JSON array', file: () => craftSafetensors('[]'), code: 'BAD_HEADER', message: /header is a JSON array, not a JSON object/ },
  { name: 'header is null', file: () => craftSafetensors('null'), code: 'BAD_HEADER', message: /header is null, not a JSON object/ },
  { name: 'header is a number', file: () => craftSafetensors('42'), code: 'BAD_HEADER', message: /header is a number, not a JSON object/ },
  { name: 'entry not an object', file: () => craftSafetensors({ w: 5 }), code: 'BAD_TENSOR', message: /tensor "w": entry is a number, not an object/ },
  { name: 'entry is an array', file: () => craftSafetensors({ w: ['F32'] }), code: 'BAD_TENSOR', message: /tensor "w": entry is a JSON array, not an object/ },
  { name: 'missing dtype', file: () => craftSafetensors({ w: { shape: [1], data_offsets: [0, 4] } }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": missing "dtype"/ },
  { name: 'missing shape', file: () => craftSafetensors({ w: { dtype: 'F32', data_offsets: [0, 4] } }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": missing "shape"/ },
  { name: 'missing data_offsets', file: () => craftSafetensors({ w: { dtype: 'F32', shape: [1] } }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": missing "data_offsets"/ },
  { name: 'dtype not a string', file: () => craftSafetensors({ w: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": dtype is a number, not a string/ },
  { name: 'unknown dtype', file: () => craftSafetensors({ w: { dtype: 'F12', shape: [1], data_offsets: [0, 4] } }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": unknown dtype "F12"/ },
  { name: 'lower-case dtype', file: () => craftSafetensors({ w: { dtype: 'float16', shape: [1], data_offsets: [0, 2] } }, bytes(2)), code: 'BAD_TENSOR', message: /unknown dtype "float16"/ },
  ...[['"3"', '3'], ['negative', [-1]], ['fractional', [1.5]], ['string dims', ['2']], ['null dim', [null]]].map(
    ([what, shape]): Case => ({
      name: `shape ${String(what)}`,
      file: () => craftSafetensors({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, bytes(4)),
      code: 'BAD_TENSOR',
      message: /tensor "w": shape must be a list of non-negative integers, got /,
    }),
  ),
  ...[[0], [0, 4, 8], [-4, 0], [8, 4], [0, 4.5], '0,4', [0, '4'], [0, 2 ** 60]].map(
    (offsets): Case => ({
      name: `data_offsets ${JSON.stringify(offsets)}`,
      file: () => craftSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, bytes(4)),
      code: 'BAD_TENSOR',
      message: /tensor "w": data_offsets must be two non-negative integers \[begin, end\] with begin <= end, got /,
    }),
  ),
  { name: 'byte span does not match shape × dtype', file: () => craftSafetensors({ w: f32(0, 4, [2]) }, bytes(4)), code: 'BAD_TENSOR', message: /tensor "w": data_offsets \[0, 4\] span 4 bytes, but shape \[2\] of F32 needs 8/ },
  { name: 'shape with too many elements', file: () => craftSafetensors({ w: f32(0, 4, [2 ** 30, 2 ** 30, 2 ** 30]) }, bytes(4)), code: 'BAD_TENSOR', message: /shape \[1073741824,1073741824,1073741824\] has too many elements/ },
  { name: 'sub-byte dtype not filling whole bytes', file: () => craftSafetensors({ w: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, bytes(2)), code: 'BAD_TENSOR', message: /3 elements of F4 do not fill a whole number of bytes/ },
  { name: 'offsets beyond the data section', file: () => craftSafetensors({ w: f32(0, 8) }, bytes(4)), code: 'BAD_HEADER', message: /tensor "w" ends at data offset 8, but the data section is only 4 bytes \(truncated file\?\)/ },
  { name: 'overlapping tensors', file: () => craftSafetensors({ a: f32(0, 8), b: f32(4, 12) }, bytes(12)), code: 'BAD_HEADER', message: /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/ },
  { name: 'two tensors on the same bytes', file: () => craftSafetensors({ a: f32(0, 4), b: f32(0, 4) }, bytes(4)), code: 'BAD_HEADER', message: /tensors "a" \[0, 4\] and "b" \[0, 4\] overlap/ },
  { name: 'empty tensor inside another', file: () => craftSafetensors({ a: f32(0, 8), e: f32(4, 4, [0]) }, bytes(8)), code: 'BAD_HEADER', message: /tensors "a" \[0, 8\] and "e" \[4, 4\] overlap/ },
  { name: 'hole between tensors', file: () => craftSafetensors({ a: f32(0, 4), b: f32(8, 12) }, bytes(12)), code: 'BAD_HEADER', message: /data bytes \[4, 8\) between "a" and "b" belong to no tensor/ },
  { name: 'hole before the first tensor', file: () => craftSafetensors({ a: f32(4, 8) }, bytes(8)), code: 'BAD_HEADER', message: /data bytes \[0, 4\) at the start of the data section belong to no tensor/ },
  { name: 'bytes after the last tensor', file: () => craftSafetensors({ a: f32(0, 4) }, bytes(8)), code: 'BAD_HEADER', message: /the last 4 bytes of the file belong to no tensor/ },
  { name: 'data but no tensors', file: () => craftSafetensors({}, bytes(3)), code: 'BAD_HEADER', message: /the last 3 bytes of the file belong to no tensor/ },
  { name: 'duplicate tensor name', file: () => craftSafetensors(`{"a":${JSON.stringify(f32(0, 4))},"a":${JSON.stringify(f32(4, 8))}}`, bytes(8)), code: 'BAD_HEADER', message: /header repeats the key "a"/ },
  { name: 'duplicate tensor name written with an escape', file: () => craftSafetensors(`{"a":${JSON.stringify(f32(0, 4))},"\\u0061":${JSON.stringify(f32(4, 8))}}`, bytes(8)), code: 'BAD_HEADER', message: /header repeats the key "a"/ },
  { name: 'duplicate field inside an entry', file: () => craftSafetensors('{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', bytes(4)), code: 'BAD_HEADER', message: /header repeats the key "dtype"/ },
  { name: 'duplicate __metadata__ key', file: () => craftSafetensors('{"__metadata__":{"k":"1","k":"2"}}'), code: 'BAD_HEADER', message: /header repeats the key "k"/ },
  { name: 'two __metadata__ entries', file: () => craftSafetensors('{"__metadata__":{},"__metadata__":{}}'), code: 'BAD_HEADER', message: /header repeats the key "__metadata__"/ },
  { name: '__metadata__ a string', file: () => craftSafetensors({ __metadata__: 'x' }), code: 'BAD_HEADER', message: /__metadata__ is a string, not a map of strings to strings/ },
  { name: '__metadata__ an array', file: () => craftSafetensors({ __metadata__: ['x'] }), code: 'BAD_HEADER', message: /__metadata__ is a JSON array, not a map/ },
  { name: '__metadata__ with a number value', file: () => craftSafetensors({ __metadata__: { steps: 3 } }), code: 'BAD_HEADER', message: /__metadata__ value of "steps" is a number, not a string/ },
  { name: '__metadata__ with a nested object', file: () => craftSafetensors({ __metadata__: { recipe: { a: '1' } } }), code: 'BAD_HEADER', message: /__metadata__ value of "recipe" is an object, not a string/ },
]

describe('openSafetensors rejects malformed files with a specific message', () => {
  it.each(CASES)('$name', async ({ file, code, message }) => {
    const path = writeBytes(join(tempDir(), 'bad.safetensors'), file())
    await expectAmalgamError(openSafetensors(path), code, path, message)
  })

  it('rejects a file whose data section was cut short (truncated download)', async () => {
    const path = join(tempDir(), 'model.safetensors')
    await writeSafetensorsFile(path, [
      { key: 'first_stage_model.decoder.conv_in.weight', dtype: 'F16', shape: [4, 4], data: new Float32Array(16) },
      { key: 'first_stage_model.decoder.conv_in.bias', dtype: 'F16', shape: [4], data: new Float32Array(4) },
    ])
    const before = await openSafetensors(path)
    truncateSync(path, before.fileSize - 6)
    await expectAmalgamError(openSafetensors(path), 'BAD_HEADER', path, /"first_stage_model.decoder.conv_in.bias" ends at data offset 40, but the data section is only 34 bytes \(truncated file\?\)/)
  })

  it('reports a missing file, a directory, and names the path', async () => {
    const dir = tempDir()
    const missing = join(dir, 'nope.safetensors')
    await expectAmalgamError(openSafetensors(missing), 'FILE_NOT_FOUND', missing, /file not found/)
    const folder = join(dir, 'folder.safetensors')
    mkdirSync(folder)
    await expectAmalgamError(openSafetensors(folder), 'FILE_UNREADABLE', folder, /not a regular file|is a directory/)
  })
})

describe('openSafetensors accepts what the reference accepts', () => {
  it('header padded with trailing spaces, __metadata__ null, zero-size tensors anywhere in the sequence', async () => {
    const header = `{"__metadata__":null,"z":{"dtype":"F16","shape":[0,3],"data_offsets":[4,4]},"a":${JSON.stringify(f32(0, 4))},"b":{"dtype":"I64","shape":[],"data_offsets":[4,12]}}      `
    const path = writeBytes(join(tempDir(), 'ok.safetensors'), craftSafetensors(header, bytes(12)))
    const ckpt = await openSafetensors(path)
    expect(ckpt.metadata).toEqual({})
    expect(ckpt.tensors.map((t) => [t.key, t.locator.offset - ckpt.dataStart!, t.locator.byteLength])).toEqual([
      ['a', 0, 4],
      ['z', 4, 0],
      ['b', 4, 8],
    ])
    expect(ckpt.dataStart).toBe(8 + new TextEncoder().encode(header).length)
    expect(ckpt.fileSize).toBe(ckpt.dataStart! + 12)
  })

  it('an empty header with no data, and extra unknown fields in entries', async () => {
    const empty = writeBytes(join(tempDir(), 'empty.safetensors'), craftSafetensors('{}'))
    expect((await openSafetensors(empty)).tensors).toEqual([])
    const extra = writeBytes(join(tempDir(), 'extra.safetensors'), craftSafetensors({ w: { ...f32(0, 4), note: 'x' } }, bytes(4)))
    expect((await openSafetensors(extra)).tensors.map((t) => t.key)).toEqual(['w'])
  })

  it('keeps a metadata key named __proto__ as an ordinary key', async () => {
    const path = writeBytes(join(tempDir(), 'proto.safetensors'), craftSafetensors('{"__metadata__":{"__proto__":"x","ss_steps":"7"}}'))
    const { metadata } = await openSafetensors(path)
    expect(Object.entries(metadata)).toEqual([
      ['__proto__', 'x'],
      ['ss_steps', '7'],
    ])
  })
})

describe('dtypes we cannot compute on', () => {
  it('open with an "unsupported" mark, list the tensors, and fail any read of their data', async () => {
    const header = {
      'model.layers.0.mlp.experts.gate_up_proj_blocks': { dtype: 'F4', shape: [2, 4], data_offsets: [0, 4] },
      'model.layers.0.mlp.experts.gate_up_proj_scales': { dtype: 'F8_E8M0', shape: [2], data_offsets: [4, 6] },
      'model.norm.weight': { dtype: 'BF16', shape: [1], data_offsets: [6, 8] },
    }
    const path = writeBytes(join(tempDir(), 'mxfp4.safetensors'), craftSafetensors(header, bytes(8)))
    const ckpt = await openSafetensors(path)
    expect(ckpt.unsupported).toBe('unsupported: F4, F8_E8M0')
    expect(ckpt.tensors.map((t) => [t.key, t.shape, t.locator.unsupportedDtype])).toEqual([
      ['model.layers.0.mlp.experts.gate_up_proj_blocks', [2, 4], 'F4'],
      ['model.layers.0.mlp.experts.gate_up_proj_scales', [2], 'F8_E8M0'],
      ['model.norm.weight', [1], undefined],
    ])
    const reader = new TensorReader()
    try {
      const scales = ckpt.tensors[1]!.locator
      await expectAmalgamError(() => reader.readFloat32(scales), 'UNSUPPORTED_DTYPE', path, /tensor "model.layers.0.mlp.experts.gate_up_proj_scales" is stored as F8_E8M0/)
      await expectAmalgamError(() => reader.readBytes(scales), 'UNSUPPORTED_DTYPE', path, /stored as F8_E8M0/)
      expect([...reader.readFloat32(ckpt.tensors[2]!.locator)]).toEqual([0])
    } finally {
      reader.close()
    }
  })
})
