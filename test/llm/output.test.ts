import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import { Lineage } from '../../src-main/common/lineage'
import type { RecipeInput } from '../../src-main/common/recipe'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { modelDetails } from '../../src-main/engine/library/details'
import { lerp64, plan, recipeOf } from '../plan/support'
import { readFolder, writeHfFolder } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const at = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-llm-output-'))
  await writeHfFolder(at('qwen-a'), { family: 'qwen2', seed: 1, shards: 3, tokenizer: '{"tokenizer":"a"}' })
  await writeHfFolder(at('qwen-b'), { family: 'qwen2', seed: 2, shards: 2, tokenizer: '{"tokenizer":"b"}', shape: { vocab: 44 } })
  await writeHfFolder(at('qwen-c'), { family: 'qwen2', seed: 3, tokenizer: '{"tokenizer":"a"}' })
})

async function run(body: Body, opts: { signal?: AbortSignal; overwrite?: boolean; onProgress?: () => void } = {}): Promise<MergeEvent[]> {
  const events: MergeEvent[] = []
  await runRecipe(recipeOf(body), {
    cwd: dir,
    signal: opts.signal ?? new AbortController().signal,
    hashCache: null,
    ...(opts.overwrite === undefined ? {} : { overwrite: opts.overwrite }),
    onEvent: (e) => {
      events.push(MergeEvent.parse(e))
      if (e.type === 'progress') opts.onProgress?.()
    },
  })
  return events
}

function done(events: readonly MergeEvent[]): Extract<MergeEvent, { type: 'done' }> {
  const last = events.at(-1)
  if (last?.type !== 'done') throw new Error(`the merge did not finish: ${JSON.stringify(last)}`)
  return last
}

const merge = (out: string, output: Partial<Body['output']> = {}, extra: Partial<Body> = {}): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: 'qwen-a' }, { model: 'qwen-c' }], params: { alpha: 0.25 } },
  output: { path: out, dtype: 'fp32', ...output },
  ...extra,
})

const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'))

describe('Hugging Face folder outputs', () => {
  it('write shards by mergekit rule, the index, config, tokenizer, model card and lineage', async () => {
    const shardSize = 6000
    const result = done(await run(merge('merged', { shardSize })))
    const out = at('merged')
    expect(result.path).toBe(out)
    expect(existsSync(`${out}.partial`)).toBe(false)
    const [a, c, merged] = await Promise.all([readFolder(at('qwen-a')), readFolder(at('qwen-c')), readFolder(out)])

    // values: the folder holds the float64 weighted sum of every key
    expect([...merged.keys()]).toEqual([...a.keys()])
    for (const [key, t] of merged) {
      const x = a.get(key)!.values
      const y = c.get(key)!.values
      for (let i = 0; i < x.length; i++) expect(Math.abs(t.values[i]! - Math.fround(lerp64(x[i]!, y[i]!, 0.25))), key).toBeLessThan(1e-7)
    }

    // shards: tensors in order, a new shard when the next tensor would pass shardSize bytes
    const expected: string[][] = [[]]
    let bytes = 0
    for (const [key, t] of a) {
      const size = t.values.length * 4
      if (expected.at(-1)!.length > 0 && bytes + size > shardSize) {
        expected.push([])
        bytes = 0
      }
      expected.at(-1)!.push(key)
      bytes += size
    }
    expect(expected.length).toBeGreaterThan(2)
    const n = String(expected.length).padStart(5, '0')
    const names = expected.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`)
    const index = json(join(out, 'model.safetensors.index.json')) as { metadata: { total_size: number }; weight_map: Record<string, string> }
    expect(index.weight_map).toEqual(Object.fromEntries(expected.flatMap((keys, i) => keys.map((k) => [k, names[i]]))))
    expect(index.metadata.total_size).toBe([...a.values()].reduce((sum, t) => sum + t.values.length * 4, 0))
    for (const [i, name] of names.entries()) {
      const shard = await openSafetensors(join(out, name))
      expect(shard.metadata.format, name).toBe('pt')
      expect(shard.tensors.map((t) => t.key)).toEqual(expected[i])
    }
    expect(readdirSync(out).sort()).toEqual(
      ['README.md', 'amalgam.lineage.json', 'config.json', 'generation_config.json', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json', ...names].sort(),
    )

    // config from a with the output dtype; tokenizer and generation config copied from a
    const config = json(join(out, 'config.json')) as Record<string, unknown>
    expect(config).toEqual({ ...(json(at('qwen-a/config.json')) as object), torch_dtype: 'float32' })
    for (const file of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(at(`qwen-a/${file}`), 'utf8'))
    }

    // model card: front matter with the models, method, and the recipe as run
    const card = readFileSync(join(out, 'README.md'), 'utf8')
    expect(card).toMatch(/^---\nbase_model:\n- "qwen-a"\n- "qwen-c"\nlibrary_name: transformers\ntags:\n- mergekit\n- merge\n/)
    expect(card).toContain('merged using the `weighted_sum` merge method')
    expect(card).toContain(`"shardSize": ${shardSize}`)

    // lineage inside the folder, naming the folder
    const lineage = Lineage.parse(json(join(out, 'amalgam.lineage.json')))
    expect(result.lineagePath).toBe(join(out, 'amalgam.lineage.json'))
    expect(lineage.output.path).toBe(out)
    expect(lineage.output.keys).toBe(a.size)
    expect(lineage.durationMs).toBe(Date.parse(lineage.finishedAt) - Date.parse(lineage.startedAt))
    expect(existsSync(join(out, 'model.lineage.json'))).toBe(false)

    // the plan said so beforehand
    const planned = await plan(dir, merge('merged-again', { shardSize }))
    expect(planned.summary.findings).toContainEqual(expect.objectContaining({ code: 'HF_FOLDER_OUTPUT', message: expect.stringContaining(`${expected.length} shards`) }))
    expect((await modelDetails(out)).lineage?.output.path).toBe(out)

    // the output is itself a mergeable folder
    const again = await plan(dir, { merge: { method: 'weighted_sum', inputs: [{ model: 'merged' }, { model: 'qwen-a' }], params: { alpha: 0.5 } }, output: { path: 'again.safetensors' } })
    expect(again.summary.ok).toBe(true)
  })

  it('write one model.safetensors without an index when everything fits one shard; dtype recorded', async () => {
    done(await run(merge('one', { dtype: 'bf16' })))
    const files = readdirSync(at('one'))
    expect(files).toContain('model.safetensors')
    expect(files).not.toContain('model.safetensors.index.json')
    expect((json(at('one/config.json')) as { torch_dtype: string }).torch_dtype).toBe('bfloat16')
    const shard = await openSafetensors(at('one/model.safetensors'))
    expect(shard.metadata.format).toBe('pt')
    expect(new Set(shard.tensors.map((t) => t.dtype))).toEqual(new Set(['BF16']))
  })

  it('take tokenizer and vocab_size from the input the embeddings come from', async () => {
    done(await run({ ...merge('taken'), merge: { method: 'weighted_sum', inputs: [{ model: 'qwen-a' }, { model: 'qwen-b' }], params: { alpha: 0.5 } }, options: { vocabulary: { take: 1 } } }))
    expect(readFileSync(at('taken/tokenizer.json'), 'utf8')).toBe('{"tokenizer":"b"}')
    expect((json(at('taken/config.json')) as { vocab_size: number }).vocab_size).toBe(44)
  })

  it('refuse an existing folder unless overwriting, and a folder output from single-file inputs', async () => {
    done(await run(merge('exists')))
    const refused = (await run(merge('exists'))).at(-1)
    expect(refused?.type === 'failed' && refused.error.message).toMatch(/exists already exists \(allow overwriting/)
    done(await run(merge('exists', { dtype: 'bf16' }), { overwrite: true }))
    expect((json(at('exists/config.json')) as { torch_dtype: string }).torch_dtype).toBe('bfloat16')
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([])
    mkdirSync(at('busy.partial'))
    const busy = (await run(merge('busy'))).at(-1)
    expect(busy?.type === 'failed' && busy.error.message).toMatch(/busy\.partial: a partial output folder already exists/)
    expect(existsSync(at('busy.partial'))).toBe(true)
    const single = { ...merge('from-file'), merge: { method: 'weighted_sum', inputs: [{ model: 'qwen-c/model.safetensors' }, { model: 'qwen-a' }], params: { alpha: 0.5 } } }
    const noConfig = (await run(single)).at(-1)
    expect(noConfig?.type === 'failed' && noConfig.error.message).toMatch(/from-file names a folder \(no \.safetensors extension\), but a \(.*model\.safetensors\) is not a Hugging Face model folder/)
  })

  it.each(['progress', 'finalising'] as const)('leave nothing behind when cancelled (at %s)', async (moment) => {
    const controller = new AbortController()
    const events: MergeEvent[] = []
    await runRecipe(recipeOf(merge(`cancelled-${moment}`, { shardSize: 6000 })), {
      cwd: dir,
      signal: controller.signal,
      hashCache: null,
      onEvent: (e) => {
        events.push(e)
        if (e.type === moment || (e.type === 'phase' && e.phase === moment)) controller.abort()
      },
    })
    expect(events.at(-1)?.type).toBe('cancelled')
    expect(events.filter((e) => e.type === 'cancelled')).toHaveLength(1)
    expect(readdirSync(dir).filter((n) => n.startsWith(`cancelled-${moment}`))).toEqual([])
  })
})
