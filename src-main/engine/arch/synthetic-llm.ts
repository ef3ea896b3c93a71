import { AmalgamError } from '../errors'
import type { DType } from '../formats/dtype'
import type { PlannedTensor } from '../formats/safetensors/writer'

export type SyntheticLlmFamily = 'llama' | 'mistral' | 'qwen2'

export interface SyntheticLlmShape {
  readonly layers: number
  readonly hidden: number
  readonly intermediate: number
  readonly vocab: number
  readonly heads: number
  readonly kvHeads: number
  /** no lm_head: the head reuses model.embed_tokens.weight */
  readonly tied: boolean
  /** default BF16, what these families are released in */
  readonly dtype?: DType
}

/**
 * An HF transformers causal LM's tensor table (llm-layouts.md, mergekit's llama.json; mistral is
 * identical; qwen2 adds q/k/v biases): embed_tokens, N layers of attention + gated MLP, final norm,
 * lm_head unless tied. Head dim d = hidden / heads; k/v project to kvHeads·d (grouped-query attention).
 */
export function syntheticLlmLayout(family: SyntheticLlmFamily, shape: SyntheticLlmShape): PlannedTensor[] {
  const { layers, hidden, intermediate, vocab, heads, kvHeads, tied } = shape
  for (const [name, value] of Object.entries({ layers, hidden, intermediate, vocab, heads, kvHeads })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new AmalgamError('BAD_ARGUMENT', `synthetic LLM: ${name} must be a positive integer, got ${value}`)
  }
  if (hidden % heads !== 0) throw new AmalgamError('BAD_ARGUMENT', `synthetic LLM: hidden ${hidden} is not a multiple of heads ${heads}`)
  if (heads % kvHeads !== 0) throw new AmalgamError('BAD_ARGUMENT', `synthetic LLM: heads ${heads} is not a multiple of kvHeads ${kvHeads}`)
  const dtype = shape.dtype ?? 'BF16'
  const kv = kvHeads * (hidden / heads)
  const tensor = (key: string, dims: number[]): PlannedTensor => ({ key, dtype, shape: dims })
  const tensors = [tensor('model.embed_tokens.weight', [vocab, hidden])]
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`
    tensors.push(
      tensor(`${p}input_layernorm.weight`, [hidden]),
      tensor(`${p}self_attn.q_proj.weight`, [hidden, hidden]),
      tensor(`${p}self_attn.k_proj.weight`, [kv, hidden]),
      tensor(`${p}self_attn.v_proj.weight`, [kv, hidden]),
      tensor(`${p}self_attn.o_proj.weight`, [hidden, hidden]),
      tensor(`${p}post_attention_layernorm.weight`, [hidden]),
      tensor(`${p}mlp.gate_proj.weight`, [intermediate, hidden]),
      tensor(`${p}mlp.up_proj.weight`, [intermediate, hidden]),
      tensor(`${p}mlp.down_proj.weight`, [hidden, intermediate]),
    )
    if (family === 'qwen2') {
      tensors.push(tensor(`${p}self_attn.q_proj.bias`, [hidden]), tensor(`${p}self_attn.k_proj.bias`, [kv]), tensor(`${p}self_attn.v_proj.bias`, [kv]))
    }
  }
  tensors.push(tensor('model.norm.weight', [hidden]))
  if (!tied) tensors.push(tensor('lm_head.weight', [vocab, hidden]))
  return tensors
}
