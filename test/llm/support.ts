import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { syntheticLlmLayout, type SyntheticLlmFamily, type SyntheticLlmShape } from '../../src-main/engine/arch/synthetic-llm'
import { syntheticValues } from '../../src-main/engine/arch/synthetic'
import type { Checkpoint } from '../../src-main/engine/formats/checkpoint'
import { writeSafetensorsFile, type TensorToWrite } from '../../src-main/engine/formats/safetensors/writer'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { openModelFolder } from '../../src-main/engine/library/model-folders'

const ARCHITECTURE: Readonly<Record<SyntheticLlmFamily, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
}

export const SMALL: SyntheticLlmShape = { layers: 4, hidden: 16, intermediate: 24, vocab: 40, heads: 4, kvHeads: 2, tied: false, dtype: 'F32' }

export interface HfFolderSpec {
  readonly family?: SyntheticLlmFamily
  readonly shape?: Partial<SyntheticLlmShape>
  readonly seed: number
  /** weight files: 1 = model.safetensors, more = numbered shards with an index */
  readonly shards?: number
  readonly tokenizer?: string
}

/**
 * A small Hugging Face folder with real key names: config.json, tokenizer files,
 * generation_config.json and the weights split over `shards` files (values depend on seed and key).
 */
export async function writeHfFolder(dir: string, spec: HfFolderSpec): Promise<string> {
  const family = spec.family ?? 'llama'
  const shape = { ...SMALL, ...spec.shape }
  mkdirSync(dir, { recursive: true })
  const layout = syntheticLlmLayout(family, shape)
  const tensors: TensorToWrite[] = layout.map((t) => ({ ...t, data: syntheticValues(t, spec.seed) }))
  const shards = spec.shards ?? 1
  const config = {
    architectures: [ARCHITECTURE[family]],
    model_type: family,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    vocab_size: shape.vocab,
    tie_word_embeddings: shape.tied,
    torch_dtype: shape.dtype === 'F32' ? 'float32' : 'bfloat16',
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2))
  writeFileSync(join(dir, 'tokenizer.json'), spec.tokenizer ?? JSON.stringify({ model: { vocab: shape.vocab } }))
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 4096 }))
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ do_sample: true, temperature: 0.6 }))
  if (shards === 1) {
    await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, {})
    return dir
  }
  const per = Math.ceil(tensors.length / shards)
  const weightMap: Record<string, string> = {}
  for (let i = 0; i < shards; i++) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`
    const part = tensors.slice(i * per, (i + 1) * per)
    await writeSafetensorsFile(join(dir, name), part, { format: 'pt' })
    for (const t of part) weightMap[t.key] = name
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }))
  return dir
}

/** Every tensor of an HF folder as float32, by key. */
export async function readFolder(dir: string): Promise<Map<string, { shape: readonly number[]; values: Float32Array }>> {
  const folder = await openModelFolder(dir, 'hf-folder')
  if (folder.kind !== 'hf-folder') throw new Error('not an hf folder')
  return readCheckpoint(folder.checkpoint)
}

export function readCheckpoint(checkpoint: Checkpoint): Map<string, { shape: readonly number[]; values: Float32Array }> {
  const reader = new TensorReader()
  try {
    return new Map(checkpoint.tensors.map((t) => [t.key, { shape: t.shape, values: reader.readFloat32(t.locator) }]))
  } finally {
    reader.close()
  }
}

/** mergekit's gradient rule written out independently: np.interp(t, linspace(0, 1, m), anchors). */
export function interp(anchors: readonly number[], t: number): number {
  if (anchors.length === 1) return anchors[0]!
  const step = 1 / (anchors.length - 1)
  for (let i = 0; i < anchors.length - 1; i++) {
    const lo = i * step
    const hi = (i + 1) * step
    if (t <= hi + 1e-15) return anchors[i]! + ((t - lo) / step) * (anchors[i + 1]! - anchors[i]!)
  }
  return anchors.at(-1)!
}
