import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RecipeInput } from '../../src-main/common/recipe'
import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import { exprId } from '../../src-main/engine/plan/expressions'
import { planRecipe } from '../../src-main/engine/plan/plan-recipe'
import type { Expr, MethodExpr } from '../../src-main/engine/plan/types'
import { K, findingCodes, mergeOf, plan, taskOf, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const path = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-plan-checks-'))
  await writeModel(path('a.safetensors'), { seed: 1 })
  await writeModel(path('b.safetensors'), { seed: 2 })
  await writeModel(path('c.safetensors'), { seed: 3 })
  await writeModel(path('v.safetensors'), { seed: 4, synthetic: { prediction: 'v' } })
  await writeModel(path('v2.safetensors'), { seed: 5, synthetic: { prediction: 'v' } })
  await writeModel(path('yaml-v.safetensors'), { seed: 6 })
  writeFileSync(path('yaml-v.yaml'), 'model:\n  params:\n    parameterization: v\n')
})

const merge = (a: string, b: string, extra: Partial<Body> = {}): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: a }, { model: b }], params: { alpha: 0.5 } },
  output: { path: 'out.safetensors' },
  ...extra,
})

describe('prediction types', () => {
  it('eps with v is refused unless allowed; the output follows a, or options.predictionType', async () => {
    const refused = await plan(dir, merge('a.safetensors', 'v.safetensors'))
    expect(refused.summary.ok).toBe(false)
    const finding = refused.summary.findings.find((f) => f.code === 'PREDICTION_MISMATCH')!
    expect(finding.severity).toBe('blocking')
    expect(finding.message).toMatch(/^a predicts eps .* but b predicts v \(marker key v_pred\).*options\.allowPredictionMismatch/)

    const forced = await plan(dir, merge('a.safetensors', 'v.safetensors', { options: { allowPredictionMismatch: true } }))
    expect(forced.summary.ok).toBe(true)
    expect(findingCodes(forced)).toContain('warning:PREDICTION_MISMATCH')
    expect(forced.tasks.some((t) => t.key === 'v_pred')).toBe(false)
    expect(forced.recipe.options.predictionType).toBe('eps')

    const asV = await plan(dir, merge('a.safetensors', 'v.safetensors', { options: { allowPredictionMismatch: true, predictionType: 'v' } }))
    expect(taskOf(asV, 'v_pred').action).toMatchObject({ kind: 'copy', source: { path: path('v.safetensors') } })
    expect(asV.output.metadata['modelspec.prediction_type']).toBe('v')
  })

  it("v with v keeps a's marker; a v output from eps inputs gets an empty v_pred; an eps output drops the markers", async () => {
    const both = await plan(dir, merge('v.safetensors', 'v2.safetensors'))
    expect(both.summary.ok).toBe(true)
    expect(taskOf(both, 'v_pred').action).toMatchObject({ kind: 'copy', source: { path: path('v.safetensors') } })

    const marked = await plan(dir, merge('a.safetensors', 'b.safetensors', { options: { predictionType: 'v' } }))
    const vPred = taskOf(marked, 'v_pred')
    expect(vPred).toMatchObject({ dtype: 'F32', shape: [0], begin: vPred.end })
    expect(findingCodes(marked)).toContain('info:MARKER_ADDED')

    const eps = await plan(dir, merge('v.safetensors', 'v2.safetensors', { options: { predictionType: 'eps' } }))
    expect(eps.tasks.some((t) => t.key === 'v_pred')).toBe(false)
    expect(findingCodes(eps)).toContain('info:MARKERS_REMOVED')
  })
})

describe("a's config .yaml", () => {
  it('sets the prediction type and is copied beside the output while the output keeps it', async () => {
    const kept = await plan(dir, merge('yaml-v.safetensors', 'v.safetensors'))
    expect(kept.summary.ok).toBe(true)
    expect(kept.summary.inputs[0]!.predictionType).toBe('v')
    expect(kept.output.sidecarYaml).toBe(path('yaml-v.yaml'))
    const changed = await plan(dir, merge('yaml-v.safetensors', 'v.safetensors', { options: { predictionType: 'eps' } }))
    expect(changed.output.sidecarYaml).toBeNull()
  })
})

describe('the output', () => {
  it('may not be an input, may not exist unless overwriting, and needs its folder', async () => {
    const overInput = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'b.safetensors' } }))
    expect(overInput.summary.findings).toEqual([expect.objectContaining({ severity: 'blocking', code: 'OUTPUT_IS_INPUT', message: expect.stringMatching(/would overwrite the input/) as string })])
    const stillRefused = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'a.safetensors' } }), { overwrite: true })
    expect(findingCodes(stillRefused)).toEqual(['blocking:OUTPUT_IS_INPUT'])

    writeFileSync(path('taken.safetensors'), 'x')
    const exists = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'taken.safetensors' } }))
    expect(findingCodes(exists)).toEqual(['blocking:OUTPUT_EXISTS'])
    const replaced = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'taken.safetensors' } }), { overwrite: true })
    expect(replaced.summary.ok).toBe(true)
    expect(replaced.output.overwrite).toBe(true)

    const nowhere = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'no/such/dir/out.safetensors' } }))
    expect(nowhere.summary.findings.map((f) => f.code)).toEqual(['OUTPUT_FOLDER'])
    expect(nowhere.summary.freeDiskBytes).toBeNull()
  })

  it('summary: sizes, free disk, estimates and the output dtype', async () => {
    const p = await plan(dir, merge('a.safetensors', 'b.safetensors'))
    const s = p.summary
    expect(s.outputDType).toBe('fp16')
    expect(s.outputBytes).toBeGreaterThan(p.tasks.at(-1)!.end)
    expect(s.freeDiskBytes).toBeGreaterThan(s.outputBytes)
    expect(s.estimatedPeakBytes).toBeGreaterThan(0)
    expect(s.estimatedSeconds).toBeGreaterThan(0)
    expect(s.inputs.map((i) => i.role)).toEqual(['a', 'b'])
    expect(s.counts.keys).toBe(p.tasks.length)
    expect(s.counts.merged + s.counts.copied).toBe(p.tasks.length)
    const bf16 = await plan(dir, merge('a.safetensors', 'b.safetensors', { output: { path: 'out.safetensors', dtype: 'bf16' } }))
    expect(mergeOf(bf16, K.in05).expr.method).toBe('weighted_sum')
    expect(taskOf(bf16, K.in05).dtype).toBe('BF16')
    expect(taskOf(bf16, K.vaeConvIn).dtype).toBe('BF16')
    expect(taskOf(bf16, K.positionIds).dtype).toBe('I64')
  })
})

function nodes(expr: Expr): MethodExpr[] {
  if (expr.kind === 'tensor') return []
  if (expr.kind === 'lora') return nodes(expr.model)
  return [expr, ...expr.inputs.flatMap(nodes), ...(expr.base === null ? [] : nodes(expr.base))]
}

describe('expressions', () => {
  it('identical sub-expressions share a structural id; identical random ones do not', async () => {
    const diff = { method: 'subtract', inputs: [{ model: 'b.safetensors' }, { model: 'a.safetensors' }] }
    const p = await plan(dir, {
      merge: { method: 'add', inputs: [{ model: 'a.safetensors' }, { method: 'scale', inputs: [diff], params: { scale: 0.5 } }, { method: 'scale', inputs: [diff], params: { scale: 0.5 } }] },
      output: { path: 'out.safetensors' },
    })
    const expr = mergeOf(p, K.in05).expr
    const [a, first, second] = expr.inputs
    expect(first!.kind === 'method' && second!.kind === 'method').toBe(true)
    expect(exprId(first!)).toBe(exprId(second!))
    expect((first as MethodExpr).node).toBe('merge.inputs[1]')
    expect((second as MethodExpr).node).toBe('merge.inputs[2]')
    // a leaf is its file and tensor: a appears twice, as the same leaf
    const subtract = (first as MethodExpr).inputs[0] as MethodExpr
    expect(subtract.method).toBe('subtract')
    expect(exprId(subtract.inputs[1]!)).toBe(exprId(a!))
    expect(new Set(nodes(expr).map((n) => n.id)).size).toBe(3)

    const dropout = { method: 'dropout', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { probability: 0.5 } }
    const random = await plan(dir, { merge: { method: 'add', inputs: [dropout, dropout] }, output: { path: 'out.safetensors' } })
    const [x, y] = mergeOf(random, K.in05).expr.inputs
    expect(exprId(x!)).not.toBe(exprId(y!))
  })

  it('nested task arithmetic: base + 0.5 x ((legal - base) + (recipe - base))', async () => {
    const p = await plan(dir, {
      merge: {
        method: 'add',
        inputs: [
          { model: 'a.safetensors' },
          {
            method: 'scale',
            inputs: [{ method: 'add', inputs: [{ method: 'subtract', inputs: [{ model: 'b.safetensors' }, { model: 'a.safetensors' }] }, { method: 'subtract', inputs: [{ model: 'c.safetensors' }, { model: 'a.safetensors' }] }] }],
            params: { scale: 0.5 },
          },
        ],
      },
      output: { path: 'out.safetensors' },
    })
    const expr = mergeOf(p, K.clipQ).expr
    expect(nodes(expr).map((n) => `${n.node}:${n.method}`)).toEqual([
      'merge:add',
      'merge.inputs[1]:scale',
      'merge.inputs[1].inputs[0]:add',
      'merge.inputs[1].inputs[0].inputs[0]:subtract',
      'merge.inputs[1].inputs[0].inputs[1]:subtract',
    ])
    expect(p.summary.inputs.map((i) => i.role)).toEqual(['a', 'b.a.a.a', 'b.a.a.b', 'b.a.b.a', 'b.a.b.b'])
    expect(p.summary.estimatedPeakBytes).toBeGreaterThan(0)
  })
})

describe('key names across layouts', () => {
  const PREFIX = 'model.diffusion_model.'
  const DOUBLE = 'double_blocks.0.img_attn.proj.weight'

  beforeAll(async () => {
    await writeModel(path('flux-comfy.safetensors'), { arch: 'flux', seed: 7 })
    // the BFL release: the transformer alone, with bare names
    const bare = syntheticLayout('flux', { scale: 'tiny' }).filter((t) => t.key.startsWith(PREFIX))
    await writeModel(path('flux-bfl.safetensors'), { arch: 'flux', seed: 8, drop: () => true, add: bare.map((t) => ({ ...t, key: t.key.slice(PREFIX.length) })) })
  })

  it("line up bare and prefixed Flux keys; the output is named in a's style", async () => {
    const bareA = await plan(dir, merge('flux-bfl.safetensors', 'flux-comfy.safetensors'))
    expect(bareA.summary.ok).toBe(true)
    const [x, y] = mergeOf(bareA, DOUBLE).expr.inputs
    expect(x).toMatchObject({ locator: { path: path('flux-bfl.safetensors'), key: DOUBLE } })
    expect(y).toMatchObject({ locator: { path: path('flux-comfy.safetensors'), key: PREFIX + DOUBLE } })
    expect(bareA.tasks.every((t) => !t.key.startsWith(PREFIX))).toBe(true)
    expect(bareA.summary.counts.merged).toBe(bareA.tasks.length)

    const prefixedA = await plan(dir, merge('flux-comfy.safetensors', 'flux-bfl.safetensors'))
    expect(mergeOf(prefixedA, PREFIX + DOUBLE).expr.inputs[1]).toMatchObject({ locator: { path: path('flux-bfl.safetensors'), key: DOUBLE } })
    expect(prefixedA.summary.counts.merged).toBe(bareA.tasks.length)
    // the text encoders b lacks stay a's
    expect(prefixedA.summary.findings.find((f) => f.code === 'MISSING_KEYS')?.severity).toBe('warning')
  })
})

describe('the canonical recipe', () => {
  it('resolves aliases to family ids with their fixed parameters, fills defaults and absolute paths', async () => {
    const p = await plan(dir, { merge: { method: 'slerp_mergekit', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }] }, output: { path: 'out.safetensors' } })
    expect(p.recipe.merge).toEqual({ method: 'slerp', inputs: [{ model: path('a.safetensors') }, { model: path('b.safetensors') }], params: { alpha: 0.5, variant: 'mergekit' } })
    expect(mergeOf(p, K.in05).expr).toMatchObject({ method: 'slerp', params: { alpha: 0.5, variant: 'mergekit' } })
    expect(p.recipe.output).toEqual({ path: path('out.safetensors'), dtype: 'fp16', embedRecipe: true })

    const lerp = await plan(dir, { merge: { method: 'lerp', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { alpha: { blocks: { IN05: 0.9 } } } }, output: { path: 'out.safetensors' } })
    expect(lerp.recipe.merge.method).toBe('weighted_sum')
    expect(lerp.recipe.merge.params.alpha).toEqual({ value: 0.5, blocks: { IN05: 0.9 } })
    await expect(plan(dir, { merge: { method: 'slerp_mergekit', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { variant: 'mecha' } }, output: { path: 'out.safetensors' } })).rejects.toThrow(
      'merge.params.variant: the alias used fixes variant = mergekit, but mecha was given',
    )
  })

  it('means the same merge when run again, from anywhere', async () => {
    const first = await plan(dir, merge('a.safetensors', 'b.safetensors', { merge: { method: 'lerp', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { alpha: { value: 0.2, gradient: [0, 1] } } } }))
    const again = await planRecipe(first.recipe, { cwd: tmpdir() })
    expect(again.recipe).toEqual(first.recipe)
    expect(again.tasks).toEqual(first.tasks)
    expect(again.output.metadata).toEqual(first.output.metadata)
  })
})
