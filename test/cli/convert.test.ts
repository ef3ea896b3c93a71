import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { readOutput } from '../execute/support'
import { craftSafetensors, TORCH_FIXTURES, useTempDir, writeBytes, writeTiny } from '../library/support'
import { amalgam, expectOneLineError } from './support-library'

const tempDir = useTempDir()
beforeAll(() => {
  process.env.AMALGAM_CACHE_DIR = join(tempDir(), 'cache')
})

describe('amalgam convert', () => {
  it('converts a torch checkpoint to safetensors and a safetensors file to another dtype', async () => {
    const dir = tempDir()
    const out = join(dir, 'sd1-tiny.safetensors')
    const run = await amalgam('convert', join(TORCH_FIXTURES, 'sd1-tiny.ckpt'), out)
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^wrote .*sd1-tiny\.safetensors \(\d+ tensors: .*\)$/)
    expect(await inspectModel(out)).toMatchObject({ status: 'ok', architecture: 'sd1', format: 'safetensors' })

    const input = join(dir, 'xl.safetensors')
    await writeTiny(input, 'sdxl', { dtype: 'F32', metadata: { 'modelspec.title': 'XL' }, synthetic: { includeOptional: true } })
    const half = join(dir, 'xl-fp16.safetensors')
    expect((await amalgam('convert', input, half, '--dtype', 'fp16')).code).toBe(0)
    const header = readOutput(half)
    expect(header.metadata).toEqual({ 'modelspec.title': 'XL', format: 'pt' })
    expect(new Set(Object.values(header.header).map((t) => t.dtype))).toEqual(new Set(['F16', 'I64']))
  })

  it.each(['hostile-eval.ckpt', 'hostile-legacy.pt', 'zip-bomb.ckpt', 'truncated.ckpt', 'bad-pickle.ckpt', 'torchscript.pt'])(
    '%s: one-line error naming it, exit 1, nothing written',
    async (name) => {
      const dir = tempDir()
      const input = join(TORCH_FIXTURES, name)
      const run = await amalgam('convert', input, join(dir, 'out.safetensors'))
      expect(run.code).toBe(1)
      expectOneLineError(run, 'convert', input, /./)
      expect(readdirSync(dir)).toEqual([])
    },
  )

  it('refuses to write over its input or an existing file, and malformed safetensors', async () => {
    const dir = tempDir()
    const input = join(dir, 'in.safetensors')
    await writeTiny(input, 'sd1')
    const before = readFileSync(input)
    const same = await amalgam('convert', input, input, '--overwrite')
    expect(same.code).toBe(1)
    expectOneLineError(same, 'convert', input, /would overwrite the input/)
    expect(readFileSync(input)).toEqual(before)
    const other = join(dir, 'other.safetensors')
    await writeTiny(other, 'sd1', { seed: 5 })
    expectOneLineError(await amalgam('convert', input, other), 'convert', other, /already exists/)
    const bad = writeBytes(join(dir, 'bad.safetensors'), craftSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)))
    expectOneLineError(await amalgam('convert', bad, join(dir, 'out.safetensors')), 'convert', bad, /span 4 bytes, but shape \[2\] of F32 needs 8/)
    expect(existsSync(join(dir, 'out.safetensors'))).toBe(false)
  })

  it('usage mistakes exit 2', async () => {
    expect((await amalgam('convert', 'a.ckpt')).code).toBe(2)
    expect((await amalgam('convert', 'a.ckpt', 'b.ckpt')).err).toMatch(/the output must be a \.safetensors file/)
    expect((await amalgam('convert', 'a.ckpt', 'b.safetensors', '--dtype', 'fp12')).err).toMatch(/--dtype fp12: expected one of same, fp32, fp16, bf16, fp8_e4m3, fp8_e5m2/)
  })
})
