import { describe, expect, it } from 'vitest'
import type { RecipeInput } from '../../src-main/common/recipe'
import { exportMergekit } from '../../src-main/engine/mergekit/export'
import { importMergekit } from '../../src-main/engine/mergekit/import'
import { parseRecipe } from '../../src-main/engine/recipe/parse'

const importing = (yaml: string) => () => importMergekit(yaml, 'c.yml', { dir: '/nonexistent' })
const exporting = (body: Omit<RecipeInput, 'format' | 'version'>) => () => exportMergekit(parseRecipe({ format: 'amalgam.recipe', version: 1, ...body }), 'r.json')

describe('import names what does not translate', () => {
  it('refuses merged slices, unknown methods and keys, a union tokenizer, and lists every problem at once', () => {
    expect(importing(`
merge_method: passthrough
slices:
  - sources: [{ model: a, layer_range: [0, 4] }, { model: b, layer_range: [0, 4] }]
  - sources: [{ model: a, layer_range: [4, 8] }]`)).toThrow(/c\.yml: not translated: slices\[0\]\.sources: 2 sources merged into one slice/)
    expect(importing('merge_method: sce\nbase_model: x\nmodels: [{ model: y }]')).toThrow(/merge_method: "sce" has no Amalgam counterpart \(translated: linear, slerp/)
    const both = importing(`
merge_method: linear
models: [{ model: a }, { model: b }]
tokenizer_source: union
modules: {}`)
    expect(both).toThrow(/modules: no Amalgam counterpart; tokenizer_source: "union"/)
  })

  it('refuses a frankenmerge whose head would come from another model, per-model t in slerp, and filtered gradients without a layer count', () => {
    expect(importing(`
merge_method: passthrough
slices: [{ sources: [{ model: a, layer_range: [0, 2] }] }, { sources: [{ model: b, layer_range: [2, 4] }] }]`)).toThrow(/slices: mergekit takes the final norm and lm_head from the last slice's model \(b\)/)
    expect(importing(`
merge_method: slerp
base_model: a
models: [{ model: a }, { model: b, parameters: { t: 0.3 } }]`)).toThrow(/models\[1\]\.parameters\.t: t is one value for the whole merge in Amalgam/)
    expect(importing(`
merge_method: slerp
base_model: a
models: [{ model: a }, { model: b }]
parameters: { t: [{ filter: mlp, value: [0, 1] }, { value: 0.5 }] }`)).toThrow(/parameters\.t\[0\]: filter "mlp" with a gradient needs the layer count \(give --layers N/)
    expect(importing('merge_method: ties\nmodels: [{ model: a }]')).toThrow(/base_model: ties needs base_model/)
    expect(importing('merge_method: linear\nmodels: [{ model: a }]\ndtype: float8')).toThrow(/dtype: "float8"/)
  })

  it('keeps Hub ids as given and says they must be local paths; with --layers a filtered gradient is written per layer', () => {
    const { recipe, notes } = importMergekit(
      'merge_method: slerp\nbase_model: org/a\nmodels: [{ model: org/a }, { model: org/b }]\nparameters: { t: [{ filter: mlp, value: [0, 1] }, { value: 0.5 }] }',
      'c.yml',
      { dir: '/nonexistent', layers: 3 },
    )
    expect(recipe.merge.inputs).toEqual([{ model: 'org/a' }, { model: 'org/b' }])
    expect(notes.filter((n) => /never downloads/.test(n))).toHaveLength(2)
    expect(recipe.merge.params.alpha).toEqual({
      value: 0.5,
      keys: [
        { pattern: '^(?=.*mlp).*\\.layers\\.0\\.', value: 0 },
        { pattern: '^(?=.*mlp).*\\.layers\\.1\\.', value: 0.5 },
        { pattern: '^(?=.*mlp).*\\.layers\\.2\\.', value: 1 },
        { pattern: 'mlp', value: 0 },
      ],
    })
  })
})

describe('export names what does not translate', () => {
  const two = [{ model: 'a' }, { model: 'b' }]
  it('refuses nested merge and LoRA nodes, methods and variants mergekit lacks, regex rules and fp8, each named', () => {
    const nested = exporting({
      merge: { method: 'linear', inputs: [{ method: 'linear', inputs: two, params: {} }, { lora: { model: 'b' }, loras: [{ path: 'l.safetensors' }] }], params: {} },
      output: { path: 'o', dtype: 'fp8_e4m3' },
    })
    expect(nested).toThrow(/r\.json: not translated to mergekit: merge\.inputs\[0\]: a nested merge node.*; merge\.inputs\[1\]: a LoRA node.*; output\.dtype: fp8_e4m3 has no mergekit dtype/)
    expect(exporting({ merge: { method: 'add_difference', inputs: two, base: { model: 'c' }, params: {} }, output: { path: 'o' } })).toThrow(/merge\.method: add_difference has no mergekit counterpart/)
    expect(exporting({ merge: { method: 'slerp', inputs: two, base: { model: 'c' }, params: {} }, output: { path: 'o' } })).toThrow(/merge\.base: mergekit's slerp has no base model besides its inputs/)
    expect(exporting({ merge: { method: 'slerp_mecha', inputs: two, params: {} }, output: { path: 'o' } })).toThrow(/merge\.method: slerp \(variant mecha\) has no mergekit counterpart/)
    expect(exporting({ merge: { method: 'slerp', inputs: two, params: { alpha: { value: 0.5, keys: [{ pattern: 'q_proj|k_proj', value: 0 }] } } }, output: { path: 'o' } })).toThrow(
      /merge\.params\.alpha\.keys\[0\]\.pattern: "q_proj\|k_proj" is a regular expression/,
    )
    expect(exporting({ merge: { method: 'ties', inputs: two, base: { model: 'c' }, params: { seed_offset: 1 } }, output: { path: 'o' } })).toThrow(/merge\.params\.seed_offset: mergekit's ties has no counterpart/)
  })

  it('refuses per-block values outside the layers, gaps in per-layer values, components and image options', () => {
    expect(exporting({ merge: { method: 'slerp', inputs: two, params: { alpha: { blocks: { L00: 0.1, L01: 0.2, HEAD: 0.9 } } } }, output: { path: 'o' } })).toThrow(
      /merge\.params\.alpha\.blocks\.HEAD: 0\.9 differs from layer 0's 0\.1: mergekit gives embeddings and head the first anchor/,
    )
    expect(exporting({ merge: { method: 'slerp', inputs: two, params: { alpha: { blocks: { L00: 0.1, L02: 0.2 } } } }, output: { path: 'o' } })).toThrow(/no value for layer 1/)
    expect(exporting({ merge: { method: 'linear', inputs: two, params: {} }, components: { vae: 'drop' }, options: { useEma: true }, output: { path: 'o' } })).toThrow(
      /components\.vae: per-component choices have no mergekit form; options\.useEma/,
    )
  })

  it('writes complete per-layer values as a gradient with one anchor per layer', () => {
    const { yaml } = exportMergekit(
      parseRecipe({ format: 'amalgam.recipe', version: 1, merge: { method: 'slerp', inputs: two, params: { alpha: { blocks: { L00: 0.1, L01: 0.2, L02: 0.4, EMBED: 0.1 } } } }, output: { path: 'o', dtype: 'bf16' } }),
      'r.json',
    )
    expect(yaml).toContain('merge_method: slerp\nbase_model: a\n')
    expect(yaml).toMatch(/t:\n\s+- 0\.1\n\s+- 0\.2\n\s+- 0\.4\n/)
    expect(yaml).toContain('dtype: bfloat16')
  })
})
