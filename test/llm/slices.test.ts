import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import type { RecipeInput } from '../../src-main/common/recipe'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { plan, recipeOf } from '../plan/support'
import { readFolder, writeHfFolder } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const at = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-llm-slices-'))
  await writeHfFolder(at('a'), { seed: 1, shards: 2 })
  await writeHfFolder(at('b'), { seed: 2, shards: 3, shape: { layers: 6 } })
  await writeHfFolder(at('wide'), { seed: 3, shape: { hidden: 32 } })
})

const franken = (slices: Body['slices'], out = 'franken'): Body => ({
  merge: { method: 'passthrough', inputs: [{ model: 'a' }], params: {} },
  slices,
  output: { path: out, dtype: 'fp32', shardSize: 5000 },
})

describe('frankenmerges (passthrough with layer slices)', () => {
  it('stack the slices renumbered from 0 between a’s embeddings and head, and update num_hidden_layers', async () => {
    const events: MergeEvent[] = []
    await runRecipe(recipeOf(franken([{ model: 'a', layers: [0, 3] }, { model: 'b', layers: [2, 6] }])), {
      cwd: dir,
      signal: new AbortController().signal,
      hashCache: null,
      onEvent: (e) => events.push(MergeEvent.parse(e)),
    })
    const last = events.at(-1)
    if (last?.type !== 'done') throw new Error(JSON.stringify(last))
    const [a, b, out] = await Promise.all([readFolder(at('a')), readFolder(at('b')), readFolder(at('franken'))])
    // expected, written out: output layer i is a's layer i for i < 3, else b's layer i - 3 + 2
    const expected = new Map<string, Float32Array>()
    expected.set('model.embed_tokens.weight', a.get('model.embed_tokens.weight')!.values)
    for (let i = 0; i < 7; i++) {
      const [source, layer] = i < 3 ? [a, i] : [b, i - 1]
      for (const [key, t] of source) {
        const m = /^model\.layers\.(\d+)\.(.*)$/.exec(key)
        if (m !== null && Number(m[1]) === layer) expected.set(`model.layers.${i}.${m[2]}`, t.values)
      }
    }
    expected.set('model.norm.weight', a.get('model.norm.weight')!.values)
    expected.set('lm_head.weight', a.get('lm_head.weight')!.values)
    expect([...out.keys()]).toEqual([...expected.keys()])
    for (const [key, values] of expected) expect(out.get(key)!.values, key).toEqual(values)
    const config = JSON.parse(readFileSync(at('franken/config.json'), 'utf8')) as { num_hidden_layers: number }
    expect(config.num_hidden_layers).toBe(7)
    expect((await inspectModel(at('franken'))).llm).toMatchObject({ layers: 7, family: 'llama' })
    // b is hashed and recorded although it is no merge input
    expect(last.lineage.inputs.filter((i) => i.role === 'slices[1]')).toHaveLength(3)
    expect(last.lineage.recipe.slices?.[1]?.model).toBe(at('b'))
  })

  it('refuse ranges outside a model, stacks of other widths, and merge methods other than passthrough', async () => {
    await expect(plan(dir, franken([{ model: 'b', layers: [4, 7] }]))).rejects.toThrow(/slices\[0\]\.layers: \[4, 7\) is not a range of .*b's 6 layers/)
    await expect(plan(dir, franken([{ model: 'wide', layers: [0, 2] }]))).rejects.toThrow(/slices\[0\]\.model: .*wide is llama with hidden size 32, a is llama with 16/)
    const body = franken([{ model: 'a', layers: [0, 2] }])
    await expect(plan(dir, { ...body, merge: { method: 'weighted_sum', inputs: [{ model: 'a' }, { model: 'b' }], params: { alpha: 0.5 } } })).rejects.toThrow(/merge\.method must be passthrough/)
  })
})
