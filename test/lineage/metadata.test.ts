import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Hashes } from '../../src-main/common/model-entry'
import type { PredictionType, Recipe } from '../../src-main/common/recipe'
import { executePlan } from '../../src-main/engine/execute/executor'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import { buildOutputMetadata, embeddedRecipe, finalMetadataPatch } from '../../src-main/engine/lineage/metadata'
import type { PlannedInputFile } from '../../src-main/engine/plan/types'
import { leaf, locatorOf, makePlan, mergeAction, method, readOutput, seededFloats, testRecipe, writeInput } from '../execute/support'
import { useTempDir } from '../formats/support'

const tempDir = useTempDir()
const KEY = 'model.diffusion_model.input_blocks.4.1.proj_in.weight'

function input(path: string, metadata: Record<string, string> = {}): PlannedInputFile {
  return { role: 'a', path, size: 1, mtimeMs: 0, architecture: 'sd1', metadata, dataStart: 8 }
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

const parentRecipe = { type: 'webui', primary_model_hash: 'c'.repeat(64), interp_method: 'Weighted sum', multiplier: 0.5 }
const grandparents = { ['d'.repeat(64)]: { name: 'grandparent.safetensors', legacy_hash: '01234567', sd_merge_recipe: null } }

describe('buildOutputMetadata', () => {
  const recipe = testRecipe('/out/My Merge.safetensors')
  const cases: [string, PredictionType, string | null, Record<string, string>][] = [
    ['sd1', 'eps', null, { architecture: 'stable-diffusion-v1', resolution: '512x512', prediction_type: 'epsilon' }],
    ['sd2', 'v', null, { architecture: 'stable-diffusion-v2-768-v', resolution: '768x768', prediction_type: 'v' }],
    ['sd2', 'eps', null, { architecture: 'stable-diffusion-v2-512', resolution: '512x512', prediction_type: 'epsilon' }],
    ['sdxl', 'eps', null, { architecture: 'stable-diffusion-xl-v1-base', resolution: '1024x1024', prediction_type: 'epsilon' }],
    ['flux', 'flow', 'schnell', { architecture: 'Flux.1-schnell', resolution: '1024x1024' }],
  ]
  it.each(cases)('describes %s (%s, %s) in ModelSpec terms', (architecture, predictionType, variant, expected) => {
    const { metadata } = buildOutputMetadata({ recipe, inputs: [input('/m/a.safetensors')], architecture, predictionType, variant })
    expect(metadata['modelspec.sai_model_spec']).toBe('1.0.1')
    expect(metadata['modelspec.architecture']).toBe(expected.architecture)
    expect(metadata['modelspec.resolution']).toBe(expected.resolution)
    expect(metadata['modelspec.prediction_type']).toBe(expected.prediction_type)
    expect(metadata['modelspec.title']).toBe('My Merge')
    expect(metadata['modelspec.date']).toBeUndefined()
  })

  it('writes no ModelSpec keys for kinds the spec has no id for', () => {
    const { metadata } = buildOutputMetadata({ recipe, inputs: [input('/m/a.safetensors')], architecture: 'llm', predictionType: 'unknown' })
    expect(Object.keys(metadata).filter((k) => k.startsWith('modelspec.'))).toEqual([])
    expect(metadata['amalgam.version']).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version)
  })

  it('embeds the recipe, the sources and a carried-through encoder layer', () => {
    const inputs = [input('/m/a.safetensors', { 'modelspec.encoder_layer': '2', 'modelspec.title': 'Alpha' }), input('/m/b.ckpt'), input('/m/a.safetensors')]
    const { metadata } = buildOutputMetadata({ recipe, inputs, architecture: 'sd1', predictionType: 'eps' })
    expect(JSON.parse(metadata['amalgam.recipe']!)).toEqual(JSON.parse(JSON.stringify(recipe)))
    expect(metadata['modelspec.encoder_layer']).toBe('2')
    expect(metadata['modelspec.merged_from']).toBe('Alpha, b')
  })

  it('leaves out everything that reveals the recipe when it is not to be embedded', () => {
    const secret: Recipe = { ...recipe, output: { ...recipe.output, embedRecipe: false } }
    const inputs = [input('/m/a.safetensors'), input('/m/b.safetensors', { sd_merge_recipe: JSON.stringify(parentRecipe) })]
    const { metadata } = buildOutputMetadata({ recipe: secret, inputs, architecture: 'sd1', predictionType: 'eps' })
    expect(Object.keys(metadata).sort()).toEqual([
      'amalgam.version',
      'modelspec.architecture',
      'modelspec.implementation',
      'modelspec.prediction_type',
      'modelspec.resolution',
      'modelspec.sai_model_spec',
      'modelspec.title',
    ])
    const hashes: Hashes = { sha256: 'a'.repeat(64), autov2: 'a'.repeat(10), autov1: 'a'.repeat(8), tensorSha256: null, autov3: null }
    const patch = finalMetadataPatch({ recipe: secret, inputs, output: { path: '', metadata, reserveMetadataBytes: 0, overwrite: false, sidecarYaml: null } }, new Map(inputs.map((i) => [i.path, hashes])), 'f'.repeat(64))
    expect(patch).toEqual({ 'modelspec.hash_sha256': `0x${'f'.repeat(64)}` })
  })

  it('reserves at least the bytes the end-of-run patch adds to the header', () => {
    const inputs = [input('/m/a.safetensors'), input('/m/ünïcödé.safetensors', { sd_merge_recipe: JSON.stringify(parentRecipe), sd_merge_models: JSON.stringify(grandparents) })]
    const built = buildOutputMetadata({ recipe, inputs, architecture: 'sd1', predictionType: 'eps' })
    const hashes = (seed: string): Hashes => ({ sha256: sha256(seed), autov2: sha256(seed).slice(0, 10), autov1: sha256(`legacy ${seed}`).slice(0, 8), tensorSha256: null, autov3: null })
    const patch = finalMetadataPatch(
      { recipe, inputs, output: { path: '', metadata: built.metadata, reserveMetadataBytes: built.reserveMetadataBytes, overwrite: false, sidecarYaml: null } },
      new Map(inputs.map((i) => [i.path, hashes(i.path)])),
      sha256('out'),
    )
    const added = Object.entries(patch).reduce((n, [k, v]) => n + Buffer.byteLength(`,${JSON.stringify(k)}:${JSON.stringify(v)}`), 0)
    expect(built.reserveMetadataBytes).toBeGreaterThanOrEqual(added)
    expect(built.reserveMetadataBytes).toBeLessThan(added + 256)
  })
})

describe('embeddedRecipe', () => {
  it("prefers Amalgam's own recipe, falls back to A1111's, and tolerates junk", () => {
    expect(embeddedRecipe({ 'amalgam.recipe': '{"x":1}', sd_merge_recipe: '{"y":2}' })).toEqual({ x: 1 })
    expect(embeddedRecipe({ sd_merge_recipe: '{"y":2}' })).toEqual({ y: 2 })
    expect(embeddedRecipe({ sd_merge_recipe: 'not json' })).toBeUndefined()
    expect(embeddedRecipe({})).toBeUndefined()
  })
})

describe('metadata of a merged file', () => {
  async function merge(embedRecipe: boolean): Promise<{ out: ReturnType<typeof readOutput>; a: Uint8Array; b: Uint8Array }> {
    const dir = tempDir()
    const tensor = (seed: number) => [{ key: KEY, dtype: 'F16' as const, shape: [20, 30], data: seededFloats(600, seed) }]
    const a = await writeInput(join(dir, 'a.safetensors'), 'a', tensor(1), { 'modelspec.title': 'Model A', 'modelspec.encoder_layer': '2' })
    const b = await writeInput(join(dir, 'b.safetensors'), 'b', tensor(2), { sd_merge_recipe: JSON.stringify(parentRecipe), sd_merge_models: JSON.stringify(grandparents) })
    const base = testRecipe(join(dir, 'merged.safetensors'))
    const recipe: Recipe = { ...base, output: { ...base.output, embedRecipe } }
    const inputs = [a.file, b.file]
    const { metadata, reserveMetadataBytes } = buildOutputMetadata({ recipe, inputs, architecture: 'sd1', predictionType: 'eps' })
    const expr = method('weighted_sum', [leaf(locatorOf(a, KEY)), leaf(locatorOf(b, KEY))], { alpha: 0.3 })
    const plan = makePlan({ recipe, inputs, tasks: [{ key: KEY, dtype: 'F16', shape: [20, 30], action: mergeAction(expr), block: 'IN04' }], metadata, reserveMetadataBytes })
    await executePlan(plan, { backend: 'wasm', hashCache: new HashCache(join(dir, 'cache')) })
    return { out: readOutput(plan.output.path), a: readFileSync(a.file.path), b: readFileSync(b.file.path) }
  }

  it("patches in the tensor-data hash and A1111's merge record keyed by the inputs' SHA-256", async () => {
    const { out, a, b } = await merge(true)
    const meta = out.metadata
    expect(meta['modelspec.hash_sha256']).toBe(`0x${sha256(out.data)}`)
    expect(meta.format).toBe('pt')
    expect(meta['modelspec.encoder_layer']).toBe('2')
    expect(meta['modelspec.merged_from']).toBe('Model A, b')
    // the inputs are smaller than 1 MiB: their legacy hash covers no bytes at all
    const legacy = sha256('').slice(0, 8)
    expect(JSON.parse(meta.sd_merge_recipe!)).toEqual({ type: 'amalgam', primary_model_hash: sha256(a), secondary_model_hash: sha256(b), tertiary_model_hash: null, interp_method: 'weighted_sum' })
    expect(JSON.parse(meta.sd_merge_models!)).toEqual({
      [sha256(a)]: { name: 'a.safetensors', legacy_hash: legacy, sd_merge_recipe: null },
      [sha256(b)]: { name: 'b.safetensors', legacy_hash: legacy, sd_merge_recipe: parentRecipe },
      ...grandparents,
    })
    expect(JSON.parse(meta['amalgam.recipe']!).merge.method).toBe('weighted_sum')
  })

  it('carries no recipe, inputs or ancestry when the recipe is private', async () => {
    const { out } = await merge(false)
    const meta = out.metadata
    for (const key of ['amalgam.recipe', 'sd_merge_recipe', 'sd_merge_models', 'modelspec.merged_from']) expect(meta[key], key).toBeUndefined()
    expect(meta['modelspec.hash_sha256']).toBe(`0x${sha256(out.data)}`)
  })
})
