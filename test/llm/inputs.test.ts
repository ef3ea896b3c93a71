import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import type { RecipeInput } from '../../src-main/common/recipe'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { findingCodes, lerp64, plan, readAll, recipeOf } from '../plan/support'
import { readFolder, writeHfFolder } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const at = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-llm-inputs-'))
  await writeHfFolder(at('llama-a'), { seed: 1, shards: 3 })
  await writeHfFolder(at('llama-b'), { seed: 2, shards: 2 })
  await writeHfFolder(at('llama-single'), { seed: 3 })
  await writeHfFolder(at('llama-tied'), { seed: 4, shape: { tied: true } })
  await writeHfFolder(at('llama-vocab48'), { seed: 5, shards: 2, shape: { vocab: 48 } })
  await writeHfFolder(at('llama-deep'), { seed: 6, shape: { layers: 6 } })
  await writeHfFolder(at('qwen'), { seed: 7, family: 'qwen2' })
  await writeHfFolder(at('mistral-a'), { seed: 8, family: 'mistral', shards: 2 })
  await writeHfFolder(at('mistral-b'), { seed: 9, family: 'mistral', shards: 3 })
})

async function run(body: Body): Promise<MergeEvent[]> {
  const events: MergeEvent[] = []
  await runRecipe(recipeOf(body), { cwd: dir, signal: new AbortController().signal, hashCache: null, onEvent: (e) => events.push(MergeEvent.parse(e)) })
  return events
}

function done(events: readonly MergeEvent[]): Extract<MergeEvent, { type: 'done' }> {
  const last = events.at(-1)
  if (last?.type !== 'done') throw new Error(`the merge did not finish: ${JSON.stringify(last)}`)
  return last
}

const pair = (a: string, b: string, out: string, extra: Partial<Body> = {}): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: a }, { model: b }], params: { alpha: 0.3 } },
  output: { path: out, dtype: 'fp32' },
  ...extra,
})

async function refusal(body: Body): Promise<string> {
  const events = await run(body)
  const last = events.at(-1)
  if (last?.type !== 'failed') throw new Error(`expected a refusal, got ${JSON.stringify(last)}`)
  return last.error.message
}

describe('Hugging Face folders as merge inputs', () => {
  it('merge sharded folders key by key, each tensor read from the shard that holds it', async () => {
    const result = done(await run(pair('llama-a', 'llama-b', 'ab.safetensors')))
    const [a, b, out] = await Promise.all([readFolder(at('llama-a')), readFolder(at('llama-b')), readAll(result.path)])
    expect([...out.keys()].sort()).toEqual([...a.keys()].sort())
    expect(out.size).toBe(1 + 4 * 9 + 2)
    for (const [key, tensor] of out) {
      const x = a.get(key)!.values
      const y = b.get(key)!.values
      expect(tensor.shape, key).toEqual(a.get(key)!.shape)
      for (let i = 0; i < x.length; i++) expect(Math.abs(tensor.values[i]! - Math.fround(lerp64(x[i]!, y[i]!, 0.3))), `${key}[${i}]`).toBeLessThan(1e-7)
    }
    // every shard of every folder is hashed and recorded
    expect(result.lineage.inputs.map((i) => i.role)).toEqual(['a', 'a', 'a', 'b', 'b'])
    expect(result.lineage.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256 ?? ''))).toBe(true)
  })

  it('merge a single-file folder with a sharded one, and mistral folders', async () => {
    const single = done(await run(pair('llama-single', 'llama-a', 'single.safetensors')))
    const out = await readAll(single.path)
    const [a, b] = await Promise.all([readFolder(at('llama-single')), readFolder(at('llama-a'))])
    const key = 'model.layers.2.mlp.down_proj.weight'
    expect(out.get(key)!.values[5]).toBeCloseTo(lerp64(a.get(key)!.values[5]!, b.get(key)!.values[5]!, 0.3), 7)
    const p = await plan(dir, pair('mistral-a', 'mistral-b', 'm.safetensors'))
    expect(p.summary.ok).toBe(true)
    expect(p.tasks.filter((t) => t.action.kind === 'merge')).toHaveLength(1 + 4 * 9 + 2)
  })

  it('refuse models of different families or depths, naming both', async () => {
    expect(await refusal(pair('llama-a', 'qwen', 'x.safetensors'))).toMatch(/different families: a \(.*llama-a\) is llama, b \(.*qwen\) is qwen2/)
    expect(await refusal(pair('llama-a', 'llama-deep', 'x.safetensors'))).toMatch(/a \(.*llama-a\) has 4 layers, b \(.*llama-deep\) has 6/)
  })

  it('refuse different vocabulary sizes with a message that says why and what to set', async () => {
    const message = await refusal(pair('llama-a', 'llama-vocab48', 'x.safetensors'))
    expect(message).toMatch(/the vocabularies differ: model\.embed_tokens\.weight of a \(.*llama-a\) has 40 tokens, b \(.*llama-vocab48\) has 48 tokens/)
    expect(message).toMatch(/options\.vocabulary.*"fit-to-a".*\{"take": N\}/)
  })

  it('fit-to-a: the shared rows are merged, a keeps its own vocabulary, rows beyond it are dropped', async () => {
    for (const [first, second] of [
      ['llama-a', 'llama-vocab48'],
      ['llama-vocab48', 'llama-a'],
    ] as const) {
      const result = done(await run(pair(first, second, `fit-${first}.safetensors`, { options: { vocabulary: 'fit-to-a' } })))
      const [a, b, out] = await Promise.all([readFolder(at(first)), readFolder(at(second)), readAll(result.path)])
      for (const key of ['model.embed_tokens.weight', 'lm_head.weight']) {
        const x = a.get(key)!
        const y = b.get(key)!.values
        expect(out.get(key)!.shape, key).toEqual(x.shape)
        const hidden = 16
        const shared = Math.min(x.shape[0]!, b.get(key)!.shape[0]!)
        for (let i = 0; i < x.values.length; i++) {
          const row = Math.floor(i / hidden)
          const expected = row < shared ? lerp64(x.values[i]!, y[i]!, 0.3) : x.values[i]!
          expect(Math.abs(out.get(key)!.values[i]! - expected), `${first}: ${key}[${i}]`).toBeLessThan(1e-7)
        }
      }
    }
  })

  it('{take: N}: embeddings and head are copied from input N', async () => {
    const result = done(await run(pair('llama-a', 'llama-vocab48', 'take.safetensors', { options: { vocabulary: { take: 1 } } })))
    const [a, b, out] = await Promise.all([readFolder(at('llama-a')), readFolder(at('llama-vocab48')), readAll(result.path)])
    expect(out.get('model.embed_tokens.weight')!.shape).toEqual([48, 16])
    expect(out.get('model.embed_tokens.weight')!.values).toEqual(b.get('model.embed_tokens.weight')!.values)
    expect(out.get('lm_head.weight')!.values).toEqual(b.get('lm_head.weight')!.values)
    const key = 'model.norm.weight'
    expect(out.get(key)!.values[3]).toBeCloseTo(lerp64(a.get(key)!.values[3]!, b.get(key)!.values[3]!, 0.3), 7)
    expect(await refusal(pair('llama-a', 'llama-vocab48', 'x.safetensors', { options: { vocabulary: { take: 2 } } }))).toMatch(/options\.vocabulary\.take: there is no input 2/)
  })

  it('tied embeddings: a tied input lends its embedding as the head; a tied a keeps the output tied', async () => {
    const untiedA = done(await run(pair('llama-a', 'llama-tied', 'tied-b.safetensors')))
    const [a, t] = await Promise.all([readFolder(at('llama-a')), readFolder(at('llama-tied'))])
    const out = await readAll(untiedA.path)
    const head = out.get('lm_head.weight')!.values
    for (let i = 0; i < head.length; i += 37) {
      expect(head[i]).toBeCloseTo(lerp64(a.get('lm_head.weight')!.values[i]!, t.get('model.embed_tokens.weight')!.values[i]!, 0.3), 7)
    }
    const p = await plan(dir, pair('llama-tied', 'llama-a', 'tied-a.safetensors'))
    expect(p.tasks.some((task) => task.key === 'lm_head.weight')).toBe(false)
    expect(findingCodes(p)).toContain('info:TIED_EMBEDDINGS')
  })
})
