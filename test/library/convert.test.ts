import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { convertCheckpoint } from '../../src-main/engine/library/convert'
import { readOutput, seededFloats, tensorBytes, viaF16 } from '../execute/support'
import { LAYOUTS, refDecode } from '../formats/float-reference'
import { amalgamErrorOf, craftSafetensors, TORCH_FIXTURES, useTempDir, writeBytes } from './support'

const tempDir = useTempDir()

interface Expected {
  readonly tensors: Record<string, Record<string, { dtype: string; shape: number[]; values: (number | boolean | string)[] }>>
}
const expected = JSON.parse(readFileSync(join(TORCH_FIXTURES, 'expected.json'), 'utf8')) as Expected

/** The values of stored little-endian bytes, decoded from the bit layouts (float-reference) and DataView alone. */
function decode(dtype: string, bytes: Uint8Array): (number | boolean)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: (number | boolean)[] = []
  const step: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }
  for (let at = 0; at < bytes.length; at += step[dtype]!) {
    if (dtype === 'F64') out.push(view.getFloat64(at, true))
    else if (dtype === 'F32') out.push(view.getFloat32(at, true))
    else if (dtype === 'F16') out.push(refDecode(LAYOUTS.F16, view.getUint16(at, true)))
    else if (dtype === 'BF16') out.push(refDecode(LAYOUTS.BF16, view.getUint16(at, true)))
    else if (dtype === 'I64') out.push(Number(view.getBigInt64(at, true)))
    else if (dtype === 'I32') out.push(view.getInt32(at, true))
    else if (dtype === 'I16') out.push(view.getInt16(at, true))
    else if (dtype === 'I8') out.push(view.getInt8(at))
    else if (dtype === 'U8') out.push(view.getUint8(at))
    else out.push(view.getUint8(at) !== 0)
  }
  return out
}

describe('convertCheckpoint', () => {
  it('fp32 → fp16: every float rounds to the nearest fp16 (ties to even), integers and metadata are kept', async () => {
    const dir = tempDir()
    const input = join(dir, 'in.safetensors')
    const weights = seededFloats(257, 7, 3)
    // values that sit on fp16 rounding edges: a tie, subnormals, overflow, negative zero
    const edges = Float32Array.from([1 + 2 ** -11, 2 ** -24, 3 * 2 ** -26, 70000, -0, 65519.99])
    const ids = new Uint8Array(new BigInt64Array([0n, 1n, 2n, 76n]).buffer)
    await writeSafetensorsFile(
      input,
      [
        { key: 'model.diffusion_model.w', dtype: 'F32', shape: [257], data: weights },
        { key: 'edges', dtype: 'F32', shape: [6], data: edges },
        { key: 'cond_stage_model.transformer.text_model.embeddings.position_ids', dtype: 'I64', shape: [1, 4], data: ids },
      ],
      { 'modelspec.title': 'source', 'modelspec.hash_sha256': '0xabc', ss_note: 'kept' },
    )
    const output = join(dir, 'out.safetensors')
    const progress: number[] = []
    const result = await convertCheckpoint(input, output, { dtype: 'fp16', onProgress: (done) => progress.push(done) })
    expect(result).toMatchObject({ path: output, tensors: 3, dtypes: { F16: 2, I64: 1 } })
    expect(progress).toEqual([1, 2, 3])
    const out = readOutput(output)
    expect(out.metadata).toEqual({ 'modelspec.title': 'source', ss_note: 'kept', format: 'pt' })
    expect(out.header['model.diffusion_model.w']).toMatchObject({ dtype: 'F16', shape: [257] })
    expect(decode('F16', tensorBytes(out, 'model.diffusion_model.w'))).toEqual(viaF16(weights))
    expect(decode('F16', tensorBytes(out, 'edges'))).toEqual([1, 2 ** -24, 2 ** -24, Infinity, -0, 65504])
    expect(tensorBytes(out, 'cond_stage_model.transformer.text_model.embeddings.position_ids')).toEqual(ids)
  })

  it.each(['sd1-tiny.ckpt', 'views.pt', 'big-endian.pt', 'legacy.pt'])('%s → safetensors holds exactly what torch saved (expected.json)', async (name) => {
    const output = join(tempDir(), 'out.safetensors')
    await convertCheckpoint(join(TORCH_FIXTURES, name), output, { dtype: 'same' })
    const out = readOutput(output)
    expect(out.metadata).toEqual({ format: 'pt' })
    const want = expected.tensors[name]!
    expect(Object.keys(out.header).sort()).toEqual(Object.keys(want).sort())
    for (const [key, tensor] of Object.entries(want)) {
      expect(out.header[key], key).toMatchObject({ dtype: tensor.dtype, shape: tensor.shape })
      expect(decode(tensor.dtype, tensorBytes(out, key)), key).toEqual(tensor.values.map((v) => (typeof v === 'string' ? Number(v) : v)))
    }
  })

  it('never writes over its input, refuses an existing output unless told, and leaves nothing behind when it fails', async () => {
    const dir = tempDir()
    const input = join(dir, 'in.safetensors')
    await writeSafetensorsFile(input, [{ key: 'w', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }])
    const before = readFileSync(input)
    expect((await amalgamErrorOf(convertCheckpoint(input, input, { dtype: 'fp16', overwrite: true }))).code).toBe('OUTPUT_IS_INPUT')
    expect(readFileSync(input)).toEqual(before)
    const output = join(dir, 'out.safetensors')
    writeFileSync(output, 'someone else’s file')
    expect((await amalgamErrorOf(convertCheckpoint(input, output, { dtype: 'fp16' }))).code).toBe('OUTPUT_EXISTS')
    await convertCheckpoint(input, output, { dtype: 'bf16', overwrite: true })
    expect(readOutput(output).header.w).toMatchObject({ dtype: 'BF16' })
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([])
  })

  it('refuses hostile, malformed and undecodable inputs with the file named, writing nothing', async () => {
    const dir = tempDir()
    const output = join(dir, 'out.safetensors')
    const hostile = await amalgamErrorOf(convertCheckpoint(join(TORCH_FIXTURES, 'hostile-os-system.ckpt'), output, { dtype: 'same' }))
    expect(hostile.code).toBe('HOSTILE_PICKLE')
    const mx = writeBytes(join(dir, 'mx.safetensors'), craftSafetensors({ w: { dtype: 'F8_E8M0', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)))
    const unsupported = await amalgamErrorOf(convertCheckpoint(mx, output, { dtype: 'fp16' }))
    expect(unsupported.code).toBe('UNSUPPORTED_DTYPE')
    expect(unsupported.message).toBe(`${mx}: unsupported: F8_E8M0: Amalgam cannot decode these tensors, so it cannot convert the file`)
    const wrongName = await amalgamErrorOf(convertCheckpoint(mx, join(dir, 'out.ckpt'), { dtype: 'fp16' }))
    expect(wrongName.code).toBe('BAD_ARGUMENT')
    expect(existsSync(output)).toBe(false)
    expect(readdirSync(dir)).toEqual(['mx.safetensors'])
  })
})
