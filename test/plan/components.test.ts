import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RecipeInput } from '../../src-main/common/recipe'
import { syntheticLayout } from '../../src-main/engine/arch/synthetic'
import { emaKeyOf } from '../../src-main/engine/plan/plan-inputs'
import { K, findingCodes, mergeOf, plan, taskOf, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const path = (name: string): string => join(dir, name)
const VAE_PREFIX = 'first_stage_model.'

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-plan-components-'))
  await writeModel(path('a.safetensors'), { seed: 1, add: [{ key: 'logvar', dtype: 'F32', shape: [8] }] })
  await writeModel(path('b.safetensors'), { seed: 2, add: [{ key: 'model.diffusion_model.extra.weight', dtype: 'F16', shape: [4] }] })
  await writeModel(path('ema-a.safetensors'), { seed: 1, synthetic: { ema: true } })
  await writeModel(path('ema-b.safetensors'), { seed: 2, synthetic: { ema: true } })
  // a lone VAE as VAE files are distributed: the LDM names without the first_stage_model. prefix
  const vaeKeys = syntheticLayout('sd1', { scale: 'tiny' }).filter((t) => t.key.startsWith(VAE_PREFIX))
  await writeModel(path('prefixed-vae.safetensors'), { seed: 9, drop: (k) => !k.startsWith(VAE_PREFIX) })
  await writeModel(path('lone-vae.safetensors'), {
    seed: 9,
    drop: () => true,
    add: vaeKeys.map((t) => ({ ...t, key: t.key.slice(VAE_PREFIX.length) })),
  })
})

const merge = (extra: Partial<Body> = {}, a = 'a.safetensors', b = 'b.safetensors'): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: a }, { model: b }], params: { alpha: 0.5 } },
  output: { path: 'out.safetensors' },
  ...extra,
})

function sourcePath(action: { kind: string; source?: { path: string } }): string | undefined {
  return action.source?.path
}

describe('components', () => {
  it('defaults: UNet and text encoder merged, VAE and scheduler from a, training leftovers dropped', async () => {
    const p = await plan(dir, merge())
    expect(mergeOf(p, K.in05).expr.method).toBe('weighted_sum')
    expect(mergeOf(p, K.clipQ).expr.method).toBe('weighted_sum')
    expect(sourcePath(taskOf(p, K.vaeConvIn).action)).toBe(path('a.safetensors'))
    expect(sourcePath(taskOf(p, K.scheduler).action)).toBe(path('a.safetensors'))
    expect(p.tasks.some((t) => t.key === 'logvar')).toBe(false)
    expect(p.summary.counts.dropped).toBe(1)
    expect(p.recipe.components).toEqual({ unet: 'merge', clip_l: 'merge', vae: { take: 0 }, ema: 'drop', scheduler: { take: 0 }, markers: 'merge', leftovers: 'drop' })
  })

  it('take from another input, and drop', async () => {
    const p = await plan(dir, merge({ components: { clip_l: { take: 1 }, vae: 'drop' } }))
    const clipKeys = p.tasks.filter((t) => t.key.startsWith('cond_stage_model.') && !t.key.endsWith('position_ids'))
    expect(clipKeys.length).toBeGreaterThan(100)
    for (const t of clipKeys) expect(sourcePath(t.action), t.key).toBe(path('b.safetensors'))
    // integer tensors always come from a
    expect(sourcePath(taskOf(p, K.positionIds).action)).toBe(path('a.safetensors'))
    expect(p.tasks.some((t) => t.key.startsWith(VAE_PREFIX))).toBe(false)
  })

  it('bakes in a VAE from a lone VAE file or from another checkpoint, matched by name below the prefix', async () => {
    for (const file of ['lone-vae.safetensors', 'prefixed-vae.safetensors', 'b.safetensors']) {
      const p = await plan(dir, merge({ components: { vae: { file } } }))
      const vaeTasks = p.tasks.filter((t) => t.key.startsWith(VAE_PREFIX))
      expect(vaeTasks.length).toBeGreaterThan(100)
      for (const t of vaeTasks) {
        expect(t.action).toMatchObject({ kind: 'copy', source: { path: path(file) } })
        if (t.action.kind === 'copy') expect(t.action.source.key?.endsWith(t.key.slice(VAE_PREFIX.length))).toBe(true)
      }
      expect(p.recipe.components.vae).toEqual({ file: path(file) })
      expect(p.inputs.at(-1)).toMatchObject({ role: 'vae', path: path(file) })
    }
  })

  it('a "VAE" file without one, or an a without a VAE to replace, is refused', async () => {
    const noVae = join(dir, 'no-vae.safetensors')
    await writeModel(noVae, { seed: 3, drop: (k) => k.startsWith(VAE_PREFIX) })
    await expect(plan(dir, merge({ components: { vae: { file: 'no-vae.safetensors' } } }))).rejects.toThrow(/^components\.vae\.file: .*no-vae\.safetensors holds no VAE/)
    const withoutVae = await plan(dir, merge({ components: { vae: { file: 'lone-vae.safetensors' } } }, 'no-vae.safetensors'))
    expect(withoutVae.summary.findings.map((f) => `${f.severity}:${f.code}`)).toContain('blocking:NO_VAE_IN_A')
  })

  it('EMA weights are dropped, or swapped into the UNet with options.useEma', async () => {
    const normal = await plan(dir, merge({}, 'ema-a.safetensors', 'ema-b.safetensors'))
    expect(normal.tasks.some((t) => t.key.startsWith('model_ema.'))).toBe(false)
    expect(mergeOf(normal, K.in05).expr.inputs[0]).toMatchObject({ locator: { key: K.in05 } })

    const ema = await plan(dir, merge({ options: { useEma: true } }, 'ema-a.safetensors', 'ema-b.safetensors'))
    const [a, b] = mergeOf(ema, K.in05).expr.inputs
    expect(a).toMatchObject({ locator: { path: path('ema-a.safetensors'), key: emaKeyOf(K.in05) } })
    expect(b).toMatchObject({ locator: { path: path('ema-b.safetensors'), key: emaKeyOf(K.in05) } })
    expect(mergeOf(ema, K.clipQ).expr.inputs[0]).toMatchObject({ locator: { key: K.clipQ } })
    expect(ema.tasks.some((t) => t.key.startsWith('model_ema.'))).toBe(false)
    expect(findingCodes(ema)).toContain('info:EMA_USED')
    expect(findingCodes(await plan(dir, merge({ options: { useEma: true } })))).toContain('warning:NO_EMA')
  })

  it('include / exclude rules: excluded keys are copied from a, or dropped', async () => {
    const unetOnly = await plan(dir, merge({ keys: { include: ['^model\\.diffusion_model\\.'], exclude: ['\\.middle_block\\.'] } }))
    expect(mergeOf(unetOnly, K.in05).expr.method).toBe('weighted_sum')
    expect(sourcePath(taskOf(unetOnly, K.clipQ).action)).toBe(path('a.safetensors'))
    expect(sourcePath(taskOf(unetOnly, K.mid).action)).toBe(path('a.safetensors'))
    const dropped = await plan(dir, merge({ keys: { exclude: ['^cond_stage_model\\.'], excluded: 'drop' } }))
    expect(dropped.tasks.some((t) => t.key.startsWith('cond_stage_model.'))).toBe(false)
    expect(mergeOf(dropped, K.in05).expr.method).toBe('weighted_sum')
  })

  it("keys only b has are left out (the result has a's keys), unless a fallback input supplies them", async () => {
    const extra = 'model.diffusion_model.extra.weight'
    const p = await plan(dir, merge())
    expect(p.tasks.some((t) => t.key === extra)).toBe(false)
    expect(p.summary.findings.find((f) => f.code === 'ONLY_IN_OTHERS')).toMatchObject({ severity: 'info', keys: [extra] })
    const kept = await plan(dir, merge({ keys: { missing: 'fallback', fallback: 1 } }))
    expect(taskOf(kept, extra).action).toMatchObject({ kind: 'copy', source: { path: path('b.safetensors') } })
    expect(kept.tasks.at(-1)!.key).toBe(extra)
  })
})
