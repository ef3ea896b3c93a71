import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { mergeOf, plan, taskOf } from '../plan/support'
import { interp, SMALL, writeHfFolder } from './support'

let dir: string
const LAYERS = 9

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-llm-gradients-'))
  await writeHfFolder(join(dir, 'a'), { seed: 1, shards: 2, shape: { layers: LAYERS } })
  await writeHfFolder(join(dir, 'b'), { seed: 2, shards: 3, shape: { layers: LAYERS } })
})

const KEYS = syntheticLlmLayout('llama', { ...SMALL, layers: LAYERS }).map((t) => t.key)

/** The layer of a llama key by llm-layouts.md's regex; null for pre (embeddings) and post (final norm, head) weights. */
function layerOf(key: string): number | null {
  const m = /^model\.layers\.(\d+)\./.exec(key)
  return m === null ? null : Number(m[1])
}

describe('per-layer gradients over LLM layers', () => {
  it("spread anchors over the layers by mergekit's rule; embeddings, final norm and head take g[0]", async () => {
    const anchors = [0, 0.5, 0.3, 0.7, 1]
    const p = await plan(dir, { merge: { method: 'weighted_sum', inputs: [{ model: 'a' }, { model: 'b' }], params: { alpha: { gradient: anchors } } }, output: { path: 'o.safetensors' } })
    expect(p.summary.ok).toBe(true)
    // llm-layouts.md's worked example: [0, .5, .3, .7, 1] over 9 layers
    const table = [0, 0.25, 0.5, 0.4, 0.3, 0.5, 0.7, 0.85, 1]
    for (const key of KEYS) {
      const layer = layerOf(key)
      const expected = layer === null ? anchors[0]! : interp(anchors, layer / (LAYERS - 1))
      if (layer !== null) expect(expected).toBeCloseTo(table[layer]!, 12)
      expect(mergeOf(p, key).expr.params.alpha, key).toBeCloseTo(expected, 12)
      expect(taskOf(p, key).block, key).toBe(layer === null ? (key.startsWith('model.embed') ? 'EMBED' : 'HEAD') : `L0${layer}`)
    }
  })

  it('per-model gradients, per-layer values and per-key regex rules resolve key by key', async () => {
    const p = await plan(dir, {
      merge: {
        method: 'linear',
        inputs: [{ model: 'a' }, { model: 'b' }],
        params: {
          weight: [
            { gradient: [1, 0], keys: [{ pattern: '\\.mlp\\.', value: 0.2 }] },
            { gradient: [0, 1], blocks: { L04: 0.9, HEAD: 0.6 } },
          ],
        },
      },
      output: { path: 'o.safetensors' },
    })
    for (const key of KEYS) {
      const layer = layerOf(key)
      const t = layer === null ? 0 : layer / (LAYERS - 1)
      const first = /\.mlp\./.test(key) ? 0.2 : interp([1, 0], t)
      const head = key === 'model.norm.weight' || key === 'lm_head.weight'
      const second = layer === 4 ? 0.9 : head ? 0.6 : interp([0, 1], t)
      const weight = mergeOf(p, key).expr.params.weight as number[]
      expect(weight[0], key).toBeCloseTo(first, 12)
      expect(weight[1], key).toBeCloseTo(second, 12)
    }
  })

  it('refuse a block id the layer convention does not have', async () => {
    await expect(
      plan(dir, { merge: { method: 'weighted_sum', inputs: [{ model: 'a' }, { model: 'b' }], params: { alpha: { value: 0.5, blocks: { L09: 1 } } } }, output: { path: 'o.safetensors' } }),
    ).rejects.toThrow(/alpha\.blocks\.L09: no such block for llm in the layers 1 convention/)
  })
})
