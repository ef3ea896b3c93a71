import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { syntheticLlmLayout } from '../../src-main/engine/arch/synthetic-llm'
import { exportMergekit } from '../../src-main/engine/mergekit/export'
import { importMergekit } from '../../src-main/engine/mergekit/import'
import { parseRecipe } from '../../src-main/engine/recipe/parse'
import { interp, SMALL, writeHfFolder } from '../llm/support'
import { mergeOf, plan } from '../plan/support'

let dir: string
const LAYERS = SMALL.layers
const KEYS = syntheticLlmLayout('llama', SMALL).map((t) => t.key)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-mergekit-'))
  await Promise.all(['base', 'a', 'b', 'c'].map((name, i) => writeHfFolder(join(dir, name), { seed: i + 1, shards: 2 })))
})

/** One config per translated method, in mergekit's own syntax. */
const CONFIGS: Readonly<Record<string, string>> = {
  linear: `
merge_method: linear
models:
  - model: a
    parameters: { weight: 0.7 }
  - model: b
    parameters: { weight: [0.3, 0.9] }
parameters: { normalize: false }
dtype: bfloat16`,
  slerp: `
slices:
  - sources:
      - { model: a, layer_range: [0, 4] }
      - { model: b, layer_range: [0, 4] }
merge_method: slerp
base_model: a
parameters:
  t:
    - { filter: self_attn, value: [0, 0.5, 0.3, 0.7, 1] }
    - { filter: mlp, value: [1, 0.5, 0.7, 0.3, 0] }
    - value: 0.5
dtype: float16`,
  nuslerp: `
merge_method: nuslerp
base_model: base
models:
  - { model: a, parameters: { weight: 0.4 } }
  - { model: b, parameters: { weight: 0.6 } }
parameters: { nuslerp_flatten: false, nuslerp_row_wise: true }`,
  task_arithmetic: `
merge_method: task_arithmetic
base_model: base
models:
  - { model: base }
  - { model: a, parameters: { weight: 0.5 } }
  - { model: b, parameters: { weight: -0.25 } }
parameters: { lambda: [1, 0.5] }`,
  ties: `
merge_method: ties
base_model: base
models:
  - { model: a, parameters: { density: 0.5, weight: 1 } }
  - { model: b, parameters: { density: 0.3, weight: [{ filter: mlp, value: 0.2 }, { value: 0.8 }] } }
parameters: { normalize: true, int8_mask: true }`,
  dare_ties: `
merge_method: dare_ties
base_model: base
models:
  - { model: a, parameters: { density: 0.53, weight: 0.4 } }
  - { model: b, parameters: { density: 0.53, weight: 0.6 } }
  - { model: c, parameters: { density: [0.2, 0.8], weight: 0.3 } }
parameters: { normalize: false }`,
  dare_linear: `
merge_method: dare_linear
base_model: base
models:
  - { model: a, parameters: { density: 0.6, weight: 0.5 } }
  - { model: b, parameters: { density: 0.6 } }
parameters: { weight: 0.25, rescale: true }`,
  della: `
merge_method: della
base_model: base
models:
  - { model: a, parameters: { density: 0.6, epsilon: 0.1, weight: 0.5 } }
  - { model: b, parameters: { density: 0.4, epsilon: 0.05, weight: 0.5 } }
parameters: { lambda: 0.9 }`,
  della_linear: `
merge_method: della_linear
base_model: base
models:
  - { model: a, parameters: { density: 0.6, epsilon: 0.1, weight: 0.5 } }
  - { model: b, parameters: { density: 0.4, epsilon: 0.1, weight: 0.5 } }
parameters: { lambda: 1 }`,
  breadcrumbs: `
merge_method: breadcrumbs
base_model: base
models:
  - { model: a, parameters: { density: 0.9, gamma: 0.01, weight: 1 } }
  - { model: b, parameters: { density: 0.9, gamma: 0.02, weight: 1 } }`,
  breadcrumbs_ties: `
merge_method: breadcrumbs_ties
base_model: base
models:
  - { model: a, parameters: { density: 0.9, gamma: 0.01 } }
  - { model: b, parameters: { density: 0.8, gamma: 0.01 } }`,
  model_stock: `
merge_method: model_stock
base_model: base
models: [{ model: a }, { model: b }, { model: c }]
parameters: { filter_wise: true }`,
  passthrough: `
merge_method: passthrough
models: [{ model: a, parameters: { scale: 0.5 } }]`,
  frankenmerge: `
merge_method: passthrough
slices:
  - sources: [{ model: a, layer_range: [0, 3] }]
  - sources: [{ model: b, layer_range: [1, 4] }]
  - sources: [{ model: a, layer_range: [3, 4] }]
dtype: bfloat16`,
}

const imported = (yaml: string, file = 'config.yml') => importMergekit(yaml, file, { dir })

describe('mergekit import → export → import', () => {
  for (const [name, yaml] of Object.entries(CONFIGS)) {
    it(`${name}: round-trips, and the recipe passes the schema and the planner`, async () => {
      const first = imported(yaml)
      const exported = exportMergekit(parseRecipe(first.recipe), 'recipe.json')
      const second = imported(exported.yaml, 'exported.yml')
      expect(second.recipe).toEqual(first.recipe)
      expect((parseYaml(exported.yaml) as { merge_method: string }).merge_method).toBe((parseYaml(yaml) as { merge_method: string }).merge_method)
      // all four models are local folders: no Hub-id notes
      expect(first.notes.filter((n) => n.includes('never downloads'))).toEqual([])
      const p = await plan(dir, first.recipe)
      expect(p.summary.ok).toBe(true)
    })
  }
})

/** mergekit's evaluate_setting for numbers, written out independently: conditionals by substring, first match wins. */
type Setting = number | number[] | { filter?: string; value: number | number[] }[]
function evaluate(setting: Setting, key: string, t: number): number | undefined {
  if (typeof setting === 'number') return setting
  if (setting.every((e) => typeof e === 'number')) return interp(setting as number[], t)
  for (const cond of setting as { filter?: string; value: number | number[] }[]) {
    if (cond.filter === undefined || cond.filter === '*' || key.includes(cond.filter)) return evaluate(cond.value, key, t)
  }
  return undefined
}

function tOf(key: string): number {
  const m = /^model\.layers\.(\d+)\./.exec(key)
  return m === null ? 0 : Number(m[1]) / (LAYERS - 1)
}

describe('parameter values per key', () => {
  it('filters and gradients give every key the value mergekit would (slerp t over self_attn / mlp / the rest)', async () => {
    const t: Setting = [
      { filter: 'self_attn', value: [0, 0.5, 0.3, 0.7, 1] },
      { filter: 'mlp', value: [1, 0.5, 0.7, 0.3, 0] },
      { value: 0.5 },
    ]
    const p = await plan(dir, imported(CONFIGS.slerp ?? '').recipe)
    for (const key of KEYS) expect(mergeOf(p, key).expr.params.alpha, key).toBeCloseTo(evaluate(t, key, tOf(key)) ?? NaN, 12)
  })

  it("a model's conditional without catch-all falls through to the global value, as in mergekit", async () => {
    const p = await plan(dir, imported(CONFIGS.dare_linear ?? '').recipe)
    const q = await plan(dir, imported(CONFIGS.ties ?? '').recipe)
    for (const key of KEYS) {
      expect(mergeOf(p, key).expr.params.weight, key).toEqual([0.5, 0.25])
      expect(mergeOf(q, key).expr.params.weight, key).toEqual([1, key.includes('mlp') ? 0.2 : 0.8])
    }
    const partial = imported(`
merge_method: ties
base_model: base
models:
  - { model: a, parameters: { weight: [{ filter: self_attn, value: 0.1 }] } }
  - { model: b }
parameters: { weight: [0.5, 1] }`)
    const r = await plan(dir, partial.recipe)
    for (const key of KEYS) {
      const general = interp([0.5, 1], tOf(key))
      const weights = mergeOf(r, key).expr.params.weight as number[]
      expect(weights[0], key).toBeCloseTo(key.includes('self_attn') ? 0.1 : general, 12)
      expect(weights[1], key).toBeCloseTo(general, 12)
    }
  })
})
