import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RecipeInput } from '../../src-main/common/recipe'
import { K, findingCodes, int64Bytes, mergeOf, plan, taskOf, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const path = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-plan-policies-'))
  await writeModel(path('a.safetensors'), { seed: 1 })
  await writeModel(path('b.safetensors'), { seed: 2 })
  await writeModel(path('c.safetensors'), { seed: 3 })
  await writeModel(path('b-missing.safetensors'), { seed: 2, drop: (k) => k === K.clipQ || k === K.mid })
  await writeModel(path('b-shape.safetensors'), { seed: 2, reshape: { [K.mid]: [7, 3] } })
  await writeModel(path('b-int.safetensors'), { seed: 2, retype: { [K.mid]: 'I32' } })
  await writeModel(path('inpaint.safetensors'), { seed: 5, synthetic: { variant: 'inpainting' } })
  await writeModel(path('a-float-ids.safetensors'), { seed: 1, retype: { [K.positionIds]: 'F32' } })
  // tiny fixtures keep 2 of CLIP's 77 positions
  await writeModel(path('a-bad-ids.safetensors'), { seed: 1, values: { [K.positionIds]: int64Bytes([0, 5]) } })
})

const merge = (a: string, b: string, extra: Partial<Body> = {}): Body => ({
  merge: { method: 'weighted_sum', inputs: [{ model: a }, { model: b }], params: { alpha: 0.5 } },
  output: { path: 'out.safetensors' },
  ...extra,
})

describe('keys some input lacks (keys.missing)', () => {
  it('error: a blocking finding naming the keys', async () => {
    const p = await plan(dir, merge('a.safetensors', 'b-missing.safetensors', { keys: { missing: 'error' } }))
    expect(p.summary.ok).toBe(false)
    const finding = p.summary.findings.find((f) => f.code === 'MISSING_KEYS')!
    expect(finding.severity).toBe('blocking')
    expect(finding.keys).toEqual(expect.arrayContaining([K.clipQ, K.mid]))
    expect(p.summary.counts.missing).toBe(2)
  })

  it("skip (the default): a's tensor is kept, with a warning", async () => {
    const p = await plan(dir, merge('a.safetensors', 'b-missing.safetensors'))
    expect(p.summary.ok).toBe(true)
    expect(findingCodes(p)).toContain('warning:MISSING_KEYS')
    const task = taskOf(p, K.mid)
    expect(task.action).toEqual({ kind: 'copy', source: expect.objectContaining({ path: path('a.safetensors'), key: K.mid }) })
    expect(mergeOf(p, K.in05).expr.inputs).toHaveLength(2)
  })

  it("fallback: the fallback input's tensor where it has the key", async () => {
    const body: Body = {
      merge: { method: 'linear', inputs: [{ model: 'a.safetensors' }, { model: 'b-missing.safetensors' }, { model: 'c.safetensors' }], params: { weight: [1, 1, 1] } },
      output: { path: 'out.safetensors' },
      keys: { missing: 'fallback', fallback: 2 },
    }
    const p = await plan(dir, body)
    expect(taskOf(p, K.clipQ).action).toEqual({ kind: 'copy', source: expect.objectContaining({ path: path('c.safetensors') }) })
    const viaB = await plan(dir, merge('a.safetensors', 'b-missing.safetensors', { keys: { missing: 'fallback', fallback: 1 } }))
    // b lacks the key itself: a's is kept
    expect(taskOf(viaB, K.clipQ).action).toEqual({ kind: 'copy', source: expect.objectContaining({ path: path('a.safetensors') }) })
  })
})

describe('keys whose shapes differ (keys.shapeMismatch)', () => {
  it('error (the default) blocks with both shapes named', async () => {
    const p = await plan(dir, merge('a.safetensors', 'b-shape.safetensors'))
    expect(p.summary.ok).toBe(false)
    const finding = p.summary.findings.find((f) => f.code === 'SHAPE_MISMATCH')!
    expect(finding.severity).toBe('blocking')
    expect(finding.message).toContain('b has [7,3]')
    expect(finding.keys).toEqual([K.mid])
    expect(p.summary.counts.shapeMismatches).toBe(1)
  })

  it("skip keeps a's tensor; fallback takes the fallback input's, in its shape", async () => {
    const skip = await plan(dir, merge('a.safetensors', 'b-shape.safetensors', { keys: { shapeMismatch: 'skip' } }))
    expect(skip.summary.ok).toBe(true)
    expect(taskOf(skip, K.mid).action).toMatchObject({ kind: 'copy', source: { path: path('a.safetensors') } })
    const fallback = await plan(dir, merge('a.safetensors', 'b-shape.safetensors', { keys: { shapeMismatch: 'fallback', fallback: 1 } }))
    const task = taskOf(fallback, K.mid)
    expect(task.action).toMatchObject({ kind: 'copy', source: { path: path('b-shape.safetensors') } })
    expect(task.shape).toEqual([7, 3])
  })
})

describe('integer tensors and position ids', () => {
  it('are never interpolated: a float key stored as integers in b keeps a', async () => {
    const p = await plan(dir, merge('a.safetensors', 'b-int.safetensors'))
    expect(taskOf(p, K.mid).action).toMatchObject({ kind: 'copy', source: { path: path('a.safetensors') } })
    expect(findingCodes(p)).toContain('info:NON_FLOAT_COPIED')
    const ids = taskOf(p, K.positionIds)
    expect(ids.dtype).toBe('I64')
    expect(ids.action).toMatchObject({ kind: 'copy', source: { path: path('a.safetensors'), dtype: 'I64' } })
    expect(findingCodes(p).some((c) => c.endsWith('POSITION_IDS_DAMAGED'))).toBe(false)
  })

  it('float-stored or shifted position ids are reported, and rebuilt on request', async () => {
    const float = await plan(dir, merge('a-float-ids.safetensors', 'b.safetensors'))
    const finding = float.summary.findings.find((f) => f.code === 'POSITION_IDS_DAMAGED')!
    expect(finding.severity).toBe('warning')
    expect(finding.message).toMatch(/stored as F32 instead of int64/)
    expect(finding.message).toMatch(/options\.resetPositionIds/)
    expect(taskOf(float, K.positionIds).action.kind).toBe('copy')

    const shifted = await plan(dir, merge('a-bad-ids.safetensors', 'b.safetensors'))
    expect(shifted.summary.findings.find((f) => f.code === 'POSITION_IDS_DAMAGED')!.message).toMatch(/they are not 0\.\.1: position 1 holds 5/)

    const reset = await plan(dir, merge('a-float-ids.safetensors', 'b.safetensors', { options: { resetPositionIds: true } }))
    const task = taskOf(reset, K.positionIds)
    expect(task).toMatchObject({ dtype: 'I64', shape: [1, 2], action: { kind: 'position_ids', length: 2 } })
    expect(findingCodes(reset).some((c) => c.endsWith('POSITION_IDS_DAMAGED'))).toBe(false)
  })
})

describe('an inpainting model a meeting normal models', () => {
  it('merges only the first 4 input channels of the first convolution, through a strided view of a', async () => {
    const body: Body = {
      merge: { method: 'add_difference', inputs: [{ model: 'inpaint.safetensors' }, { model: 'b.safetensors' }], base: { model: 'c.safetensors' }, params: { alpha: 1 } },
      output: { path: 'out.safetensors' },
    }
    const p = await plan(dir, body)
    expect(p.summary.ok).toBe(true)
    const task = taskOf(p, K.in00)
    const full = [3, 9, 3, 3]
    expect(task.shape).toEqual(full)
    const action = mergeOf(p, K.in00)
    expect(action.slice).toMatchObject({ dim: 1, count: 4, full: { path: path('inpaint.safetensors'), shape: full } })
    const [a, b] = action.expr.inputs
    const fullLocator = action.slice!.full
    // element [i, c, y, x] of the view is element [i, c, y, x] of a's 9-channel tensor: strides of the full tensor
    expect(a).toEqual({ kind: 'tensor', locator: { ...fullLocator, shape: [3, 4, 3, 3], strides: [81, 9, 3, 1], byteLength: (2 * 81 + 3 * 9 + 2 * 3 + 2 + 1) * 2 } })
    expect(b).toMatchObject({ kind: 'tensor', locator: { path: path('b.safetensors'), shape: [3, 4, 3, 3] } })
    expect(action.expr.base).toMatchObject({ kind: 'tensor', locator: { path: path('c.safetensors') } })
    expect(findingCodes(p)).toContain('info:CHANNEL_SLICE')
    expect(mergeOf(p, K.in05).slice).toBeNull()
  })

  it('the other way round (a normal, b inpainting) is a shape mismatch', async () => {
    const p = await plan(dir, merge('a.safetensors', 'inpaint.safetensors'))
    expect(p.summary.ok).toBe(false)
    expect(p.summary.findings.find((f) => f.code === 'SHAPE_MISMATCH')!.keys).toEqual([K.in00])
  })
})
