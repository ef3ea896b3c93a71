import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ModelEntry } from '../../src-main/common/model-entry'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { writeSafetensorsFile } from '../../src-main/engine/formats/safetensors/writer'
import { inspectModel } from '../../src-main/engine/library/inspect'
import { recipeOf } from '../plan/support'
import { SMALL, writeHfFolder } from './support'

let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-llm-library-'))
  await writeHfFolder(join(dir, 'mistral'), { family: 'mistral', seed: 1, shards: 2, shape: { dtype: 'BF16', tied: true } })
  await writeHfFolder(join(dir, 'mistral-2'), { family: 'mistral', seed: 2, shape: { dtype: 'BF16', tied: true } })
})

describe('Hugging Face folders in the library', () => {
  it('list an LLM folder as one mergeable model with its family, depth, widths, vocabulary, dtype and tying', async () => {
    const entry = await inspectModel(join(dir, 'mistral'))
    expect(ModelEntry.parse(entry)).toEqual(entry)
    const layout = syntheticLlmLayout('mistral', { ...SMALL, tied: true })
    const params = layout.reduce((sum, t) => sum + t.shape.reduce((p, d) => p * d, 1), 0)
    expect(entry).toMatchObject({ format: 'hf-folder', status: 'ok', problem: null, architecture: 'llm', keys: layout.length, params, dtypes: { BF16: params } })
    expect(entry.llm).toEqual({ family: 'mistral', layers: 4, hiddenSize: 16, vocabSize: 40, tiedEmbeddings: true })
  })

  it('show the recipe of a merged folder, and list transformers folders that are not LLMs as unsupported', async () => {
    await runRecipe(
      recipeOf({ merge: { method: 'weighted_sum', inputs: [{ model: 'mistral' }, { model: 'mistral-2' }], params: { alpha: 0.5 } }, output: { path: 'merged', shardSize: 3000 } }),
      { cwd: dir, signal: new AbortController().signal, hashCache: null, onEvent: () => undefined },
    )
    const merged = await inspectModel(join(dir, 'merged'))
    expect(merged).toMatchObject({ status: 'ok', architecture: 'llm' })
    expect(merged.recipe).toMatchObject({ merge: { method: 'weighted_sum' } })

    const bert = join(dir, 'bert')
    mkdirSync(bert)
    writeFileSync(join(bert, 'config.json'), JSON.stringify({ architectures: ['BertModel'] }))
    await writeSafetensorsFile(join(bert, 'model.safetensors'), [{ key: 'encoder.layer.0.attention.self.query.weight', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }])
    expect(await inspectModel(bert)).toMatchObject({ status: 'unsupported', problem: expect.stringMatching(/not a causal language model/) })
  })
})
