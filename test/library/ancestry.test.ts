import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { MergeEvent } from '../../src-main/common/events'
import type { AncestryNode } from '../../src-main/common/ipc'
import type { ModelEntry } from '../../src-main/common/model-entry'
import { Recipe } from '../../src-main/common/recipe'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { ancestryOf } from '../../src-main/engine/library/ancestry'
import { createDemoCheckpoints } from '../../src-main/engine/library/demo'
import { modelDetails } from '../../src-main/engine/library/details'
import { HashCache } from '../../src-main/engine/library/hash-cache'
import { hashFileSync } from '../../src-main/engine/library/hashes'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { useTempDir, writeTiny } from './support'

const tempDir = useTempDir()
const sha = (c: string): string => c.repeat(64)

function entryWith(metadata: Record<string, string>, recipe: unknown = null, sha256: string | null = null): ModelEntry {
  return {
    path: '/m/merged.safetensors',
    name: 'merged.safetensors',
    format: 'safetensors',
    size: 1,
    mtimeMs: 0,
    status: 'ok',
    problem: null,
    architecture: 'sd1',
    variant: null,
    predictionType: 'eps',
    predictionSource: null,
    layout: 'ldm',
    components: [],
    dtypes: {},
    params: 0,
    keys: 0,
    metadata,
    hashes: { sha256, autov2: null, autov1: null, tensorSha256: null, autov3: null },
    recipe,
    llm: null,
    notes: [],
  }
}

const leaf = (name: string, sha256: string | null): AncestryNode => ({ name, sha256, method: null, parents: [] })

describe('ancestryOf', () => {
  it('follows A1111 sd_merge_models through nested sd_merge_recipe entries to the grandparents', () => {
    // C = A + B (weighted sum); A = D + E (add difference with F); B is a plain model; the file itself is C
    const models = {
      [sha('a')]: { name: 'mixes/A.safetensors', legacy_hash: 'aaaaaaaa', sd_merge_recipe: { type: 'webui', primary_model_hash: sha('d'), secondary_model_hash: sha('e'), tertiary_model_hash: sha('f'), interp_method: 'Add difference' } },
      [sha('b')]: { name: 'B.safetensors', legacy_hash: 'bbbbbbbb', sd_merge_recipe: null },
      // as A1111 copies it from a parent's metadata: the recipe as JSON text
      [sha('d')]: { name: 'D.ckpt', legacy_hash: 'dddddddd', sd_merge_recipe: JSON.stringify({ primary_model_hash: sha('1'), secondary_model_hash: sha('2'), interp_method: 'Weighted sum' }) },
      [sha('e')]: { name: 'E.safetensors', legacy_hash: null, sd_merge_recipe: null },
    }
    const metadata = {
      sd_merge_recipe: JSON.stringify({ type: 'webui', primary_model_hash: sha('a'), secondary_model_hash: sha('b'), tertiary_model_hash: null, interp_method: 'Weighted sum', multiplier: 0.3 }),
      sd_merge_models: JSON.stringify(models),
    }
    expect(ancestryOf(entryWith(metadata, null, sha('c')), null)).toEqual({
      name: 'merged.safetensors',
      sha256: sha('c'),
      method: 'Weighted sum',
      parents: [
        {
          name: 'mixes/A.safetensors',
          sha256: sha('a'),
          method: 'Add difference',
          parents: [{ name: 'D.ckpt', sha256: sha('d'), method: 'Weighted sum', parents: [leaf('1111111111', sha('1')), leaf('2222222222', sha('2'))] }, leaf('E.safetensors', sha('e')), leaf('ffffffffff', sha('f'))],
        },
        leaf('B.safetensors', sha('b')),
      ],
    })
  })

  it('uses the shape of an embedded Amalgam recipe and puts hashes on its inputs from sd_merge_models', () => {
    const recipe = {
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'add_difference', inputs: [{ model: '/models/A.safetensors' }, { method: 'weighted_sum', inputs: [{ model: 'B.safetensors' }, { model: 'C.safetensors', sha256: sha('9') }], params: { alpha: 0.5 } }], base: { model: '/x/base.safetensors' }, params: {} },
      output: { path: 'merged.safetensors' },
    }
    const metadata = {
      sd_merge_models: JSON.stringify({
        [sha('a')]: { name: 'A.safetensors', legacy_hash: null, sd_merge_recipe: { primary_model_hash: sha('7'), secondary_model_hash: sha('8'), interp_method: 'amalgam:slerp' } },
        [sha('b')]: { name: 'B.safetensors', legacy_hash: null, sd_merge_recipe: null },
      }),
    }
    expect(ancestryOf(entryWith(metadata, recipe), null)).toEqual({
      name: 'merged.safetensors',
      sha256: null,
      method: 'add_difference',
      parents: [
        { name: 'A.safetensors', sha256: sha('a'), method: 'amalgam:slerp', parents: [leaf('7777777777', sha('7')), leaf('8888888888', sha('8'))] },
        { name: 'nested merge', sha256: null, method: 'weighted_sum', parents: [leaf('B.safetensors', sha('b')), leaf('C.safetensors', sha('9'))] },
        leaf('base.safetensors', null),
      ],
    })
  })

  it('stops at a hash that is its own ancestor, and gives null for a model that is not a merge', () => {
    const metadata = {
      sd_merge_recipe: JSON.stringify({ primary_model_hash: sha('a'), interp_method: 'Weighted sum' }),
      sd_merge_models: JSON.stringify({ [sha('a')]: { name: 'A', sd_merge_recipe: { primary_model_hash: sha('a'), interp_method: 'loop' } } }),
    }
    const tree = ancestryOf(entryWith(metadata), null)
    expect(tree).toEqual({ name: 'merged.safetensors', sha256: null, method: 'Weighted sum', parents: [{ name: 'A', sha256: sha('a'), method: 'loop', parents: [leaf('A', sha('a'))] }] })
    expect(ancestryOf(entryWith({ 'modelspec.title': 'x', sd_merge_recipe: 'not json' }), null)).toBeNull()
  })
})

describe('modelDetails of a real merge', () => {
  it('reads the lineage sidecar and builds the tree from the embedded recipe with the inputs\' SHA-256', async () => {
    const dir = tempDir()
    const [base] = await createDemoCheckpoints(dir)
    // the parent is itself a merge: its record carries over into the child's sd_merge_models
    const parent = join(dir, 'parent.safetensors')
    await writeTiny(parent, 'sd1', {
      seed: 9,
      dtype: 'F16',
      metadata: { sd_merge_recipe: JSON.stringify({ primary_model_hash: sha('4'), secondary_model_hash: sha('5'), interp_method: 'Weighted sum' }) },
    })
    const output = join(dir, 'child.safetensors')
    const recipe = Recipe.parse({ format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [{ model: base }, { model: parent }], params: { alpha: 0.5 } }, output: { path: output } })
    const events: MergeEvent[] = []
    await runRecipe(recipe, { signal: new AbortController().signal, onEvent: (e) => events.push(e), hashCache: new HashCache(join(dir, 'cache')), backend: 'wasm' })
    expect(events.at(-1)?.type).toBe('done')

    const details = await modelDetails(output)
    expect(details.lineage?.output.path).toBe(output)
    const digest = (path: string): string => hashFileSync(path, null).sha256!
    expect(details.ancestry).toEqual({
      name: 'child.safetensors',
      sha256: null,
      method: 'weighted_sum',
      parents: [
        leaf('demo-base.safetensors', digest(base!)),
        { name: 'parent.safetensors', sha256: digest(parent), method: 'Weighted sum', parents: [leaf('4444444444', sha('4')), leaf('5555555555', sha('5'))] },
      ],
    })
  })

  it('notes a lineage sidecar it cannot read', async () => {
    const dir = tempDir()
    const path = join(dir, 'm.safetensors')
    await writeTiny(path, 'sd1')
    writeFileSync(join(dir, 'm.lineage.json'), '{"schema": "amalgam.lineage/1"}')
    const details = await modelDetails(path)
    expect(details.lineage).toBeNull()
    expect(details.entry.notes.at(-1)).toMatch(/m\.lineage\.json is not a lineage record this version reads/)
    expect((await inspectModel(path)).notes).toEqual([])
  })
})
