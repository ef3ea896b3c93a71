import { z } from 'zod'
import type { LlmDetails } from '../../common/model-entry'
import type { TensorHead } from './detection-types'

/**
 * Where the decoder layers of an HF transformers model live (llm-layouts.md). The layer index is the
 * first `.N.` after the prefix, so MoE expert numbers later in a name never count as layers.
 */
const LAYER_STACK_PREFIXES = [
  'model.layers',
  'model.language_model.layers',
  'language_model.model.layers',
  'model.decoder.layers',
  'transformer.h',
  'gpt_neox.layers',
  'backbone.layers',
] as const

/** The layer a key belongs to, or null for keys outside the layer stack (embeddings, final norm, head). */
export function layerIndexOf(key: string): number | null {
  for (const prefix of LAYER_STACK_PREFIXES) {
    if (!key.startsWith(`${prefix}.`)) continue
    const match = /\.(\d+)\./.exec(key.slice(prefix.length))
    return match === null ? null : Number(match[1])
  }
  return null
}

/** `key` moved to layer `index` (the number that layerIndexOf reads); null for keys outside the layer stack. */
export function renumberLayer(key: string, index: number): string | null {
  for (const prefix of LAYER_STACK_PREFIXES) {
    if (!key.startsWith(`${prefix}.`)) continue
    const rest = key.slice(prefix.length)
    const match = /\.(\d+)\./.exec(rest)
    if (match === null) return null
    return `${prefix}${rest.slice(0, match.index)}.${index}.${rest.slice(match.index + match[0].length)}`
  }
  return null
}

/** Tensors after the last layer: final norm and LM head (mergekit's post-weights). */
export const LLM_HEAD_PATTERN =
  /^(lm_head\.|embed_out\.|output\.weight$|(model|transformer|gpt_neox|backbone|model\.language_model|language_model\.model|model\.decoder)\.(norm|ln_f|final_layer_norm|final_layernorm|norm_f)\.)/

/** Tensors before the first layer: token (and GPT-2 position) embeddings (mergekit's pre-weights). */
export const LLM_EMBED_PATTERN = /(^|\.)(embed_tokens|wte|wpe|embed_in|word_embeddings|tok_embeddings|embeddings)\./

/** The token embedding [vocab, hidden] (GPT-2's position embedding wpe also counts as pre, but is not this). */
export const TOKEN_EMBEDDING_PATTERN = /(^|\.)(embed_tokens|wte|embed_in|word_embeddings|tok_embeddings)\.weight$/

/** A separate output projection; without one the head reuses the token embedding (tied). */
export const OUTPUT_PROJECTION_PATTERN = /^(lm_head\.|embed_out\.|output\.weight$)/

/** config.json fields detection uses; everything else in the file is ignored. */
const HfConfig = z.looseObject({
  architectures: z.array(z.string()).optional(),
  model_type: z.string().optional(),
  hidden_size: z.number().int().positive().optional(),
  vocab_size: z.number().int().positive().optional(),
})

/** config.json `architectures[0]` → mergekit's definition name (llm-layouts.md family table). */
const FAMILY_BY_ARCHITECTURE: Readonly<Record<string, string>> = {
  LlamaForCausalLM: 'llama',
  LLaMaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  MixtralForCausalLM: 'mixtral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Qwen3MoeForCausalLM: 'qwen3_moe',
  GemmaForCausalLM: 'gemma',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3',
  Phi3ForCausalLM: 'phi3',
  CohereForCausalLM: 'cohere',
  Olmo2ForCausalLM: 'olmo2',
  GraniteForCausalLM: 'granite',
  Glm4ForCausalLM: 'glm4',
  Starcoder2ForCausalLM: 'starcoder2',
  GPT2LMHeadModel: 'gpt2',
  GPTNeoXForCausalLM: 'gpt-neox',
  FalconForCausalLM: 'falcon',
  InternLM2ForCausalLM: 'internlm2',
  ExaoneForCausalLM: 'exaone',
}

export interface LlmFindings {
  readonly details: LlmDetails
  readonly notes: readonly string[]
}

/** Family, depth, widths and head tying of an HF causal LM, from config.json when given and from the keys otherwise. */
export function describeLlm(tensors: readonly TensorHead[], hfConfig: unknown): LlmFindings {
  const notes: string[] = []
  const config = parseConfig(hfConfig, notes)
  let layers = 0
  for (const t of tensors) {
    const index = layerIndexOf(t.key)
    if (index !== null) layers = Math.max(layers, index + 1)
  }
  const embedding = tensors.find((t) => TOKEN_EMBEDDING_PATTERN.test(t.key) && t.shape.length === 2)
  const keys = tensors.map((t) => t.key)
  const family = familyFromConfig(config) ?? familyFromKeys(keys, notes)
  return {
    details: {
      family,
      layers,
      hiddenSize: config?.hidden_size ?? embedding?.shape[1] ?? null,
      vocabSize: config?.vocab_size ?? embedding?.shape[0] ?? null,
      tiedEmbeddings: !keys.some((k) => OUTPUT_PROJECTION_PATTERN.test(k)),
    },
    notes,
  }
}

function parseConfig(hfConfig: unknown, notes: string[]): z.infer<typeof HfConfig> | null {
  if (hfConfig === undefined || hfConfig === null) return null
  const parsed = HfConfig.safeParse(hfConfig)
  if (parsed.success) return parsed.data
  notes.push('config.json was ignored: it does not have the usual fields (architectures, hidden_size, vocab_size)')
  return null
}

function familyFromConfig(config: z.infer<typeof HfConfig> | null): string | null {
  const architecture = config?.architectures?.[0]
  if (architecture !== undefined) return FAMILY_BY_ARCHITECTURE[architecture] ?? config?.model_type ?? architecture
  return config?.model_type ?? null
}

/** Key heuristics from blocks.json's llm detection note, for files without a config.json. */
function familyFromKeys(keys: readonly string[], notes: string[]): string {
  const has = (re: RegExp): boolean => keys.some((k) => re.test(k))
  if (has(/\.block_sparse_moe\.experts\./)) return 'mixtral'
  if (has(/\.self_attn\.qkv_proj\./)) return 'phi3'
  if (has(/\.pre_feedforward_layernorm\./)) return has(/\.self_attn\.q_norm\./) ? 'gemma3' : 'gemma2'
  if (has(/\.self_attn\.q_norm\./) && !has(/\.self_attn\.q_proj\.bias$/)) return 'qwen3'
  if (has(/\.input_layernorm\.bias$/)) return 'starcoder2'
  if (has(/\.self_attn\.q_proj\.bias$/)) return 'qwen2'
  if (has(/^gpt_neox\.layers\./)) return 'gpt-neox'
  if (has(/^transformer\.word_embeddings\./)) return 'falcon'
  if (has(/^transformer\.h\./)) return 'gpt2'
  if (has(/^backbone\.layers\./)) return 'mamba'
  notes.push('llama and mistral have the same tensors; without config.json this is reported as llama')
  return 'llama'
}
