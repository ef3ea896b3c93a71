import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ModelEntry } from '../../src-main/common/model-entry'
import { hashFileSync } from '../../src-main/engine/library/hashes'
import { craftSafetensors, TORCH_FIXTURES, useTempDir, writeBytes, writeTiny } from '../library/support'
import { amalgam, expectOneLineError } from './support-library'

const tempDir = useTempDir()
beforeAll(() => {
  process.env.AMALGAM_CACHE_DIR = join(tempDir(), 'cache')
})

describe('amalgam inspect', () => {
  it('prints a summary: architecture, prediction and its source, components, dtypes, notable metadata, blocks', async () => {
    const path = join(tempDir(), 'model.safetensors')
    await writeTiny(path, 'sd1', { dtype: 'F16', metadata: { 'modelspec.title': 'My model', ss_sd_model_name: 'v1-5.ckpt', other: 'x' } })
    const run = await amalgam('inspect', path)
    expect(run.code).toBe(0)
    expect(run.err).toBe('')
    const out = run.out
    expect(out).toMatch(/^model\.safetensors\n/)
    expect(out).toMatch(/ {2}architecture {2}sd1\n/)
    expect(out).toMatch(/ {2}prediction {4}eps \(from architecture \(SD1 is eps\)\)/)
    expect(out).toMatch(/ {4}unet {7}686 keys/)
    expect(out).toMatch(/ {2}dtypes {8}F16 100%/)
    expect(out).toMatch(/modelspec\.title: My model\n {4}ss_sd_model_name: v1-5\.ckpt\n {4}\(2 more entries/)
    expect(out).toMatch(/ {2}hashes {8}not computed yet \(--hash computes them\)/)
    expect(out).toMatch(/ {2}blocks {8}supermerger 2025-11: 26 blocks, 1,130 keys in a block/)
  })

  it('counts the keys the default convention skips and the keys in no block, with examples', async () => {
    const path = join(tempDir(), 'full.safetensors')
    await writeTiny(path, 'sd1', { synthetic: { includeOptional: true, ema: true } })
    const run = await amalgam('inspect', path)
    expect(run.out).toMatch(/ {4}\d+ keys the convention skips, e\.g\.\n {6}\S+ \(.+\)/)
    expect(run.out).toMatch(/ {4}\d+ keys in no block, e\.g\.\n {6}model_ema\.\S+ \((kept from the primary model|merged with \w+)\)/)
  })

  it('--json prints the ModelEntry; --hash computes and prints the hashes', async () => {
    const path = join(tempDir(), 'h.safetensors')
    await writeTiny(path, 'sdxl')
    const run = await amalgam('inspect', path, '--json', '--hash')
    expect(run.code).toBe(0)
    const entry = ModelEntry.parse(JSON.parse(run.out))
    const sha256 = hashFileSync(path, null).sha256!
    expect(entry).toMatchObject({ path, architecture: 'sdxl', hashes: { sha256, autov2: sha256.slice(0, 10) } })
    expect(run.err).toMatch(/^hashing 1\/1 .*h\.safetensors/)
    // remembered: a second run shows them without --hash
    expect((await amalgam('inspect', path)).out).toContain(`AutoV2 ${sha256.slice(0, 10)}`)
  })

  const bad = readdirSync(TORCH_FIXTURES).filter((n) => /^(hostile|bad|truncated|missing|no-data|short|compressed|zip-bomb|torchscript)/.test(n))

  it.each(bad)('torch fixture %s: one-line error naming the file, exit 1', async (name) => {
    const path = join(TORCH_FIXTURES, name)
    const run = await amalgam('inspect', path)
    expect(run.code).toBe(1)
    expectOneLineError(run, 'inspect', path, /./)
    expect(run.out).toMatch(/ {2}status {8}error: /)
  })

  it.each([
    ['header length 2^63', craftSafetensors('{}', new Uint8Array(0), 2n ** 63n), /larger than the 100000000-byte limit/],
    ['bad JSON', craftSafetensors('{"a":'), /header is not valid JSON/],
    ['hole in data', craftSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /belong to no tensor/],
  ])('malformed safetensors (%s): one-line error, exit 1; --json still prints the entry', async (_name, bytes, problem) => {
    const path = writeBytes(join(tempDir(), 'bad.safetensors'), bytes)
    const run = await amalgam('inspect', path)
    expect(run.code).toBe(1)
    expectOneLineError(run, 'inspect', path, problem)
    const json = await amalgam('inspect', '--json', path)
    expect(json.code).toBe(1)
    expect(ModelEntry.parse(JSON.parse(json.out))).toMatchObject({ status: 'error' })
  })

  it('a missing path, a plain folder and usage mistakes', async () => {
    const dir = tempDir()
    const missing = join(dir, 'nope.safetensors')
    const run = await amalgam('inspect', missing)
    expect(run.code).toBe(1)
    expectOneLineError(run, 'inspect', missing, /file not found/)
    mkdirSync(join(dir, 'plain'))
    writeFileSync(join(dir, 'plain', 'readme.txt'), 'x')
    expectOneLineError(await amalgam('inspect', join(dir, 'plain')), 'inspect', join(dir, 'plain'), /not a model folder/)
    expect((await amalgam('inspect')).code).toBe(2)
    expect((await amalgam('inspect', 'a', 'b')).err).toMatch(/one PATH at a time/)
    expect((await amalgam('inspect', '--frobnicate', 'a')).code).toBe(2)
  })
})
