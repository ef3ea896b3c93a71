import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../../src-main/engine/errors'
import type { Checkpoint, TensorLocator } from '../../../src-main/engine/formats/checkpoint'
import { openCkpt } from '../../../src-main/engine/formats/ckpt/index'
import { isFloatDType } from '../../../src-main/engine/formats/dtype'
import { TensorReader } from '../../../src-main/engine/formats/tensor-reader'

/*
 * The fixtures are genuine torch.save files (test/fixtures/torch/make_fixtures.py); expected.json
 * holds the values torch itself read back, so every number here is torch's, decoded below by
 * naive per-element code that shares nothing with the engine's codecs.
 */

const FIXTURES = join(import.meta.dirname, '../../fixtures/torch')
const fixture = (name: string): string => join(FIXTURES, name)

interface ExpectedTensor {
  dtype: string
  shape: number[]
  values: (number | boolean)[]
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  tensors: Record<string, Record<string, ExpectedTensor>>
  sameTensorsAs: Record<string, string>
  markers: Record<string, string>
}

function f16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

function element(view: DataView, at: number, dtype: string, little: boolean): number {
  switch (dtype) {
    case 'F64': return view.getFloat64(at, little)
    case 'F32': return view.getFloat32(at, little)
    case 'F16': return f16(view.getUint16(at, little))
    case 'BF16': {
      const bits = new DataView(new ArrayBuffer(4))
      bits.setUint16(0, view.getUint16(at, little), false)
      return bits.getFloat32(0, false)
    }
    case 'I64': return Number(view.getBigInt64(at, little))
    case 'I32': return view.getInt32(at, little)
    case 'I16': return view.getInt16(at, little)
    case 'I8': return view.getInt8(at)
    case 'U8':
    case 'BOOL': return view.getUint8(at)
    default: throw new Error(`no test decoder for ${dtype}`)
  }
}

const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

/** Reads a tensor through its locator the slow way: one element at a time, in C order, through the strides. */
function readTensor(loc: TensorLocator): number[] {
  const size = SIZES[loc.dtype]!
  const bytes = Buffer.alloc(loc.byteLength)
  const fd = openSync(loc.path, 'r')
  try {
    expect(readSync(fd, bytes, 0, loc.byteLength, loc.offset)).toBe(loc.byteLength)
  } finally {
    closeSync(fd)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const shape = loc.shape
  const strides = loc.strides ?? shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1))
  const numel = shape.reduce((a, b) => a * b, 1)
  const out: number[] = []
  for (let flat = 0; flat < numel; flat++) {
    let rest = flat
    let index = 0
    for (let d = shape.length - 1; d >= 0; d--) {
      index += (rest % shape[d]!) * strides[d]!
      rest = Math.floor(rest / shape[d]!)
    }
    out.push(element(view, index * size, loc.dtype, loc.byteOrder !== 'big'))
  }
  return out
}

function expectTensorsOf(checkpoint: Checkpoint, name: string): void {
  const want = expected.tensors[expected.sameTensorsAs[name] ?? name]!
  expect(checkpoint.tensors.map((t) => t.key).sort()).toEqual(Object.keys(want).sort())
  for (const info of checkpoint.tensors) {
    const tensor = want[info.key]!
    expect({ key: info.key, dtype: info.dtype, shape: info.shape }).toEqual({ key: info.key, dtype: tensor.dtype, shape: tensor.shape })
    expect(info.locator).toMatchObject({ path: fixture(name), key: info.key, dtype: tensor.dtype, shape: tensor.shape })
    expect(readTensor(info.locator), info.key).toEqual(tensor.values.map(Number))
  }
  const offsets = checkpoint.tensors.map((t) => t.locator.offset)
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
}

async function refusal(name: string): Promise<{ code: string; message: string }> {
  const err: unknown = await openCkpt(fixture(name)).then(
    () => null,
    (e: unknown) => e,
  )
  if (!isAmalgamError(err)) throw new Error(`${name}: expected an AmalgamError, got ${String(err)}`)
  expect(err.file).toBe(fixture(name))
  expect(err.message.startsWith(`${fixture(name)}: `)).toBe(true)
  return { code: err.code, message: err.message.slice(fixture(name).length + 2) }
}

describe('openCkpt on genuine torch.save files', () => {
  it.each(['sd1-tiny.ckpt', 'zip64.ckpt', 'deflated-pickle.ckpt'])('reads the state_dict of an SD1 Lightning checkpoint (%s)', async (name) => {
    const checkpoint = await openCkpt(fixture(name))
    expect(checkpoint).toMatchObject({ path: fixture(name), format: 'ckpt', fileSize: statSync(fixture(name)).size, metadata: {} })
    expect(checkpoint.unsupported).toBeUndefined()
    expectTensorsOf(checkpoint, name)
    expect(checkpoint.notes).toEqual([
      "ignored 2 tensors outside 'state_dict' (optimizer_states)",
      'ignored 4 non-tensor objects: pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint, numpy.dtype, numpy.core.multiarray.scalar',
    ])
  })

  it('keeps views exactly: shared storages, offsets and a transposed (strided) view', async () => {
    const checkpoint = await openCkpt(fixture('sd1-tiny.ckpt'))
    const loc = (suffix: string): TensorLocator => checkpoint.tensors.find((t) => t.key.endsWith(suffix))!.locator
    const q = loc('attn1.to_q.weight')
    const k = loc('attn1.to_k.weight')
    expect(k.offset - q.offset).toBe(4 * 4 * 2)
    expect(q.strides).toBeUndefined()
    expect(loc('attn1.to_v.weight')).toMatchObject({ shape: [4, 4], strides: [1, 4], byteLength: 16 * 2 })
  })

  it('reads a file saved through a buffer (zip prefix "archive/") with every dtype and view kind', async () => {
    const checkpoint = await openCkpt(fixture('views.pt'))
    expectTensorsOf(checkpoint, 'views.pt')
    expect(checkpoint.notes).toEqual([])
    const loc = (key: string): TensorLocator => checkpoint.tensors.find((t) => t.key === key)!.locator
    expect(loc('tied.a')).toEqual({ ...loc('tied.b'), key: 'tied.a' })
    expect(loc('expanded')).toMatchObject({ shape: [2, 3], strides: [0, 1], byteLength: 12 })
    expect(loc('column')).toMatchObject({ shape: [6], strides: [4], byteLength: (1 + 5 * 4) * 4 })
    expect(loc('empty')).toMatchObject({ shape: [0, 3], byteLength: 0 })
    expect(loc('empty').strides).toBeUndefined()
  })

  it('reads the legacy (pre-zip) format, views included', async () => {
    const checkpoint = await openCkpt(fixture('legacy.pt'))
    expectTensorsOf(checkpoint, 'legacy.pt')
    expect(checkpoint.notes).toEqual([])
  })

  it('reads a big-endian archive (byteorder record) and marks its locators', async () => {
    const checkpoint = await openCkpt(fixture('big-endian.pt'))
    expectTensorsOf(checkpoint, 'big-endian.pt')
    for (const info of checkpoint.tensors) expect(info.locator.byteOrder).toBe('big')
  })

  it('reads a whole pickled model (torch.save(model)) as its state_dict(), without non-persistent buffers', async () => {
    const checkpoint = await openCkpt(fixture('full-model.pt'))
    expectTensorsOf(checkpoint, 'full-model.pt')
    expect(checkpoint.notes).toEqual(['read the parameters and buffers of a pickled model (torch.nn.modules.container.Sequential)'])
  })

  it("prefers BasicSR's params_ema over params and says so", async () => {
    const checkpoint = await openCkpt(fixture('esrgan.pth'))
    expectTensorsOf(checkpoint, 'esrgan.pth')
    expect(checkpoint.notes).toEqual(["read the tensors under 'params_ema'; ignored 2 tensors outside 'params_ema' (params)"])
  })
})

describe('openCkpt on hostile files', () => {
  it.each([
    ['hostile-os-system.ckpt', 'os.system'],
    ['hostile-eval.ckpt', 'builtins.eval'],
    ['hostile-popen.ckpt', 'subprocess.Popen'],
    ['hostile-legacy.pt', 'os.system'],
  ])('refuses %s, which calls %s, and runs nothing', async (name, callee) => {
    // make_fixtures.py proved that torch.load of this file creates the marker
    const marker = expected.markers[name]!
    rmSync(marker, { force: true })
    expect(await refusal(name)).toEqual({
      code: 'HOSTILE_PICKLE',
      message: `refused: the pickle calls ${callee} (a hostile or unsafe checkpoint); nothing was executed`,
    })
    expect(existsSync(marker)).toBe(false)
  })
})

describe('openCkpt on malformed files', () => {
  it.each([
    ['truncated.ckpt', 'BAD_ZIP', /^has no zip end record: the file is truncated/],
    ['truncated-legacy.pt', 'BAD_HEADER', /^storage "\d+" \(\d+ bytes at \d+\) runs past the end of the file: it is truncated$/],
    ['no-data-pkl.ckpt', 'BAD_ZIP', /^is a zip archive without a <name>\/data\.pkl entry/],
    ['missing-storage.ckpt', 'BAD_ZIP', /^storage "3" \(sd1-tiny\/data\/3\) is missing from the archive$/],
    ['short-storage.ckpt', 'BAD_TENSOR', /^tensor "model\.diffusion_model\.input_blocks\.1\.1\.transformer_blocks\.0\.attn1\.to_[qk]\.weight": its storage "3" should hold 64 bytes, the file has 62$/],
    ['compressed-storage.ckpt', 'UNSUPPORTED_FORMAT', /^storage sd1-tiny\/data\/3 is compressed; tensors are read in place/],
    ['bad-pickle.ckpt', 'BAD_PICKLE', /^sd1-tiny\/data\.pkl is malformed at byte \d+ \(end of data\): the pickle ends without a STOP opcode/],
    ['zip-bomb.ckpt', 'BAD_ZIP', /^sd1-tiny\/data\.pkl would expand \d+ bytes into 2097\d+ \(over 100:1\): refused as a zip bomb$/],
    ['zip-bomb-lying.ckpt', 'BAD_ZIP', /^sd1-tiny\/data\.pkl inflates past its declared 1000 bytes: refused as a zip bomb$/],
    ['torchscript.pt', 'UNSUPPORTED_FORMAT', /^is a TorchScript archive \(torch\.jit\.save\)/],
  ])('%s → %s', async (name, code, message) => {
    const got = await refusal(name)
    expect(got.code).toBe(code)
    expect(got.message).toMatch(message)
  })

  it('names a missing file', async () => {
    const err: unknown = await openCkpt(fixture('no-such-file.ckpt')).catch((e: unknown) => e)
    expect(isAmalgamError(err, 'FILE_NOT_FOUND')).toBe(true)
  })

  it('refuses a file that is neither a zip nor a torch pickle', async () => {
    expect(await refusal('expected.json')).toEqual({ code: 'UNSUPPORTED_FORMAT', message: 'is not a torch checkpoint: it is neither a zip archive nor a torch pickle' })
  })
})

describe('the locators', () => {
  it.each(['sd1-tiny.ckpt', 'views.pt', 'legacy.pt', 'big-endian.pt'])('read back through the engine TensorReader (%s)', async (name) => {
    const checkpoint = await openCkpt(fixture(name))
    const reader = new TensorReader()
    try {
      for (const info of checkpoint.tensors) {
        if (!isFloatDType(info.dtype)) continue
        const want = expected.tensors[name]![info.key]!.values.map((v) => Math.fround(Number(v)))
        expect(Array.from(reader.readFloat32(info.locator)), info.key).toEqual(want)
      }
    } finally {
      reader.close()
    }
  })
})

describe('openCkpt never fails in any other way', () => {
  it.each(['sd1-tiny.ckpt', 'legacy.pt'])('on damaged copies of %s', async (name) => {
    const original = readFileSync(fixture(name))
    const length = original.length
    const dir = mkdtempSync(join(tmpdir(), 'amalgam-ckpt-'))
    const file = join(dir, name)
    try {
      // edits anywhere, in the pickle at the start and in the zip directory at the end; sometimes a cut
      const position = fc.oneof(fc.nat({ max: length - 1 }), fc.nat({ max: Math.min(length, 2000) - 1 }), fc.integer({ min: Math.max(0, length - 1200), max: length - 1 }))
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: length })), async (edits, cut) => {
          const bytes = Uint8Array.from(original)
          for (const [at, value] of edits) bytes[at] = value
          writeFileSync(file, cut === null ? bytes : bytes.subarray(0, cut))
          await openCkpt(file).catch((err: unknown) => {
            if (!isAmalgamError(err)) throw err
          })
        }),
        { numRuns: 300 },
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
