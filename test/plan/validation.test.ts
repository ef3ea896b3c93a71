import { beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RecipeInput } from '../../src-main/common/recipe'
import { previewRecipe } from '../../src-main/engine/plan/plan-recipe'
import { amalgamErrorOf } from '../formats/support'
import { plan, recipeOf, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-plan-validation-'))
  await writeModel(join(dir, 'a.safetensors'), { seed: 1 })
  await writeModel(join(dir, 'b.safetensors'), { seed: 2 })
  await writeModel(join(dir, 'xl.safetensors'), { arch: 'sdxl', seed: 3 })
  await writeModel(join(dir, 'xl2.safetensors'), { arch: 'sdxl', seed: 4 })
})

const PAIR = [{ model: 'a.safetensors' }, { model: 'b.safetensors' }]

const pair = (params: Record<string, unknown> = {}, method = 'weighted_sum', node: object = { inputs: PAIR }): Body => ({
  merge: { method, params, ...node },
  output: { path: 'out.safetensors' },
})

async function refusal(body: Body): Promise<{ code: string; message: string }> {
  const err = await amalgamErrorOf(plan(dir, body))
  return { code: err.code, message: err.message }
}

describe('recipe validation names the recipe path of the problem', () => {
  it('a missing input file', async () => {
    const { code, message } = await refusal(pair({}, 'weighted_sum', { inputs: [{ model: 'a.safetensors' }, { model: 'missing.safetensors' }] }))
    expect(code).toBe('FILE_NOT_FOUND')
    expect(message).toBe(`merge.inputs[1]: ${join(dir, 'missing.safetensors')}: file not found`)
  })

  it('a missing base in a nested node', async () => {
    const body: Body = {
      merge: { method: 'add', inputs: [{ model: 'a.safetensors' }, { method: 'add_difference', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], base: { model: 'nope.safetensors' } }] },
      output: { path: 'out.safetensors' },
    }
    expect((await refusal(body)).message).toMatch(/^merge\.inputs\[1\]\.base: .*nope\.safetensors: file not found$/)
  })

  it('an unknown method, with suggestions', async () => {
    const { code, message } = await refusal(pair({}, 'wieghted_sum'))
    expect(code).toBe('UNKNOWN_METHOD')
    expect(message).toMatch(/^merge\.method: unknown merge method "wieghted_sum"; did you mean weighted_sum/)
  })

  it('the wrong number of inputs and a base the method does not take', async () => {
    const three = pair({}, 'weighted_sum', { inputs: [...PAIR, { model: 'a.safetensors' }] })
    expect((await refusal(three)).message).toBe('merge.inputs: weighted_sum takes 2 inputs, got 3')
    const based = pair({}, 'weighted_sum', { inputs: PAIR, base: { model: 'a.safetensors' } })
    expect((await refusal(based)).message).toBe('merge.base: weighted_sum takes no base model')
    const ties: Body = { merge: { method: 'ties_sum', inputs: [{ model: 'a.safetensors' }] }, output: { path: 'out.safetensors' } }
    expect((await refusal(ties)).message).toMatch(/^merge\.base: ties_sum needs a base model/)
  })

  it('unknown parameters, out-of-range values and per-model counts', async () => {
    expect((await refusal(pair({ beta: 1 }))).message).toMatch(/^merge\.params\.beta: weighted_sum has no parameter "beta"/)
    expect((await refusal(pair({ alpha: 'x' }))).message).toBe('merge.params.alpha: expected a finite number, got "x"')
    expect((await refusal(pair({ probability: 1.5 }, 'dropout'))).message).toBe('merge.params.probability: 1.5 is above the maximum 1')
    const linear = pair({ weight: [0.5, 0.3, 0.2] }, 'linear')
    expect((await refusal(linear)).message).toBe('merge.params.weight: expected one number per input (2), got [0.5,0.3,0.2]')
  })

  it('a block the architecture does not have (sdxl has 9 input blocks)', async () => {
    const body: Body = {
      merge: { method: 'weighted_sum', inputs: [{ model: 'xl.safetensors' }, { model: 'xl2.safetensors' }], params: { alpha: { value: 0.5, blocks: { IN12: 1 } } } },
      output: { path: 'out.safetensors' },
    }
    const { code, message } = await refusal(body)
    expect(code).toBe('BAD_RECIPE')
    expect(message).toMatch(/^merge\.params\.alpha\.blocks\.IN12: no such block for sdxl in the supermerger 2025-11 convention/)
  })

  it('an invalid per-key regex, and variation on a parameter that cannot vary', async () => {
    expect((await refusal(pair({ alpha: { value: 0.5, keys: [{ pattern: '(', value: 1 }] } }))).message).toMatch(/^merge\.params\.alpha\.keys\[0\]\.pattern: invalid regular expression/)
    const dropout = pair({ probability: 0.1, rescale: { value: 1, blocks: { IN00: 0 } } }, 'dropout')
    expect((await refusal(dropout)).message).toBe('merge.params.rescale: this parameter cannot vary per block, layer or key')
  })

  it('recipe-level fields: output name, fallback input, include regex, components, block convention', async () => {
    expect((await refusal({ ...pair(), output: { path: 'out.ckpt' } })).message).toMatch(/^output\.path: .*out\.ckpt: Amalgam writes safetensors files/)
    expect((await refusal({ ...pair(), keys: { missing: 'fallback', fallback: 2 } })).message).toBe('keys.fallback: there is no input 2 (the merge has 2 inputs, 0 = a)')
    expect((await refusal({ ...pair(), keys: { include: ['[a'] } })).message).toMatch(/^keys\.include\[0\]: invalid regular expression/)
    expect((await refusal({ ...pair(), components: { t5: 'drop' } })).message).toMatch(/^components\.t5: sd1 models have no component "t5"/)
    expect((await refusal({ ...pair(), components: { vae: { take: 2 } } })).message).toBe('components.vae.take: there is no input 2 (the merge has 2 inputs, 0 = a)')
    expect((await refusal({ ...pair(), components: { unet: { file: 'a.safetensors' } } })).message).toBe('components.unet.file: only the VAE can come from a separate file')
    expect((await refusal({ ...pair(), blocks: { name: 'supermerger', version: '1999-01' } })).message).toMatch(/^blocks: no block convention supermerger version 1999-01 for sd1/)
  })

  it('models of different architectures are refused with both named', async () => {
    const body: Body = { merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'xl.safetensors' }] }, output: { path: 'out.safetensors' } }
    const { code, message } = await refusal(body)
    expect(code).toBe('INCOMPATIBLE_MODELS')
    expect(message).toBe(`merge.inputs[1]: the models are of different architectures: a (${join(dir, 'a.safetensors')}) is sd1, b (${join(dir, 'xl.safetensors')}) is sdxl`)
  })

  it('previewRecipe turns a refusal into the one blocking finding of a summary', async () => {
    const summary = await previewRecipe(recipeOf(pair({}, 'nope')), { cwd: dir })
    expect(summary.ok).toBe(false)
    expect(summary.findings).toEqual([{ severity: 'blocking', code: 'UNKNOWN_METHOD', message: expect.stringMatching(/^merge\.method: unknown merge method "nope"/) as string }])
  })
})
