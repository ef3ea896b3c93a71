import { existsSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSyntheticCheckpoint } from '../src-main/engine/arch/synthetic-file'
import { dtypeSize, numelOf } from '../src-main/engine/formats/dtype'
import { syntheticLlmLayout, type SyntheticLlmShape } from '../src-main/engine/arch/synthetic-llm'
import { HashCache } from '../src-main/engine/library/hash-cache'
import { hashCacheDir, rememberHash, type BenchScale } from './models'

/** The two inputs of the LLM merge: Hugging Face folders. */
export interface LlmModels {
  readonly a: string
  readonly b: string
  /** the weight files of each folder, in index order (what the merge reads) */
  readonly shards: { readonly a: readonly string[]; readonly b: readonly string[] }
}

/** Llama-3.2-1B's shape (its config.json): 16 layers, GQA 32/8 heads, 128256-token vocabulary, tied head, bf16. */
const LLAMA_1B: SyntheticLlmShape = { layers: 16, hidden: 2048, intermediate: 8192, vocab: 128256, heads: 32, kvHeads: 8, tied: true, dtype: 'BF16' }

/** The same keys and head ratios, shapes small enough for the unit test. */
const LLAMA_TINY: SyntheticLlmShape = { ...LLAMA_1B, hidden: 32, intermediate: 64, vocab: 256, heads: 4, kvHeads: 1 }

/** Weight files per folder: enough to go through the index and the shard logic the way multi-GB releases do. */
const SHARDS = 2

const SEEDS = { a: 1, b: 2 } as const

export function llmShape(scale: BenchScale): SyntheticLlmShape {
  return scale === 'real' ? LLAMA_1B : LLAMA_TINY
}

function shardName(index: number): string {
  return `model-${String(index + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.safetensors`
}

/**
 * The two Llama-style folders (config.json, tokenizer files, sharded weights with their index),
 * generated once per scale into the cache directory through `<name>.partial` and renamed when
 * complete, so an existing folder is whole. Their shard hashes go into the bench's hash cache, as
 * ensureModels does for the SD files.
 */
export async function ensureLlmModels(cacheDir: string, scale: BenchScale, log: (line: string) => void): Promise<LlmModels> {
  await mkdir(cacheDir, { recursive: true })
  const shape = llmShape(scale)
  const cache = new HashCache(hashCacheDir(cacheDir))
  const names = Array.from({ length: SHARDS }, (_, i) => shardName(i))
  const dirs = { a: '', b: '' }
  for (const role of ['a', 'b'] as const) {
    const dir = join(cacheDir, `llama-1b-${scale}-bf16-seed${SEEDS[role]}`)
    if (!existsSync(dir)) {
      const started = Date.now()
      log(`generating ${dir} ...`)
      await writeLlamaFolder(dir, shape, SEEDS[role])
      log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    for (const name of names) await rememberHash(cache, join(dir, name), log)
    dirs[role] = dir
  }
  return { ...dirs, shards: { a: names.map((n) => join(dirs.a, n)), b: names.map((n) => join(dirs.b, n)) } }
}

async function writeLlamaFolder(dir: string, shape: SyntheticLlmShape, seed: number): Promise<void> {
  const partial = `${dir}.partial`
  await rm(partial, { recursive: true, force: true })
  await mkdir(partial, { recursive: true })
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    vocab_size: shape.vocab,
    tie_word_embeddings: shape.tied,
    torch_dtype: 'bfloat16',
  }
  await writeFile(join(partial, 'config.json'), JSON.stringify(config, null, 2))
  await writeFile(join(partial, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab_size: shape.vocab } }))
  await writeFile(join(partial, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 131072 }))
  await writeFile(join(partial, 'generation_config.json'), JSON.stringify({ do_sample: true, temperature: 0.6 }))
  const layout = syntheticLlmLayout('llama', shape)
  const per = Math.ceil(layout.length / SHARDS)
  const weightMap: Record<string, string> = {}
  let totalSize = 0
  for (let i = 0; i < SHARDS; i++) {
    const part = layout.slice(i * per, (i + 1) * per)
    // one tensor in memory at a time: a real-size shard never is
    await writeSyntheticCheckpoint(join(partial, shardName(i)), part, { seed, metadata: { format: 'pt' } })
    for (const t of part) {
      weightMap[t.key] = shardName(i)
      totalSize += numelOf(t.shape) * dtypeSize(t.dtype)
    }
  }
  await writeFile(join(partial, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2))
  await rename(partial, dir)
}
