import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import { Recipe, type RecipeInput } from '../../src-main/common/recipe'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { openSafetensors } from '../../src-main/engine/formats/safetensors/reader'
import { K, expectClose, lerp64, readAll, recipeOf, sha256File, writeModel } from './support'

type Body = Omit<RecipeInput, 'format' | 'version'>

let dir: string
const path = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-run-recipe-'))
  await writeModel(path('a.safetensors'), { seed: 1 })
  await writeModel(path('b.safetensors'), { seed: 2 })
  await writeModel(path('c.safetensors'), { seed: 3 })
  await writeModel(path('inpaint.safetensors'), { seed: 5, synthetic: { variant: 'inpainting' } })
})

async function run(body: Body, signal = new AbortController().signal): Promise<MergeEvent[]> {
  const events: MergeEvent[] = []
  await runRecipe(recipeOf(body), { cwd: dir, signal, hashCache: null, onEvent: (e) => events.push(MergeEvent.parse(e)) })
  return events
}

function done(events: readonly MergeEvent[]): Extract<MergeEvent, { type: 'done' }> {
  const last = events.at(-1)
  if (last?.type !== 'done') throw new Error(`the merge did not finish: ${JSON.stringify(last)}`)
  return last
}

/** supermerger's SD1 block of a key, written out independently (see key-params.test.ts). */
function block(key: string): string {
  if (key.includes('time_embed')) return 'IN00'
  if (key.includes('.out.')) return 'OUT11'
  const n = /\.(input_blocks|output_blocks)\.(\d+)\./.exec(key)
  if (n !== null) return `${n[1] === 'input_blocks' ? 'IN' : 'OUT'}${n[2]!.padStart(2, '0')}`
  return /\.middle_block\./.test(key) ? 'M00' : 'BASE'
}

describe('runRecipe', () => {
  it('writes a file whose tensors equal a float64 weighted sum with per-block alpha', async () => {
    const alphas: Record<string, number> = { IN05: 0.9, BASE: 0.6, OUT11: 1 }
    const events = await run({
      merge: { method: 'lerp', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { alpha: { value: 0.25, blocks: alphas } } },
      output: { path: 'ws.safetensors', dtype: 'fp32' },
    })
    const result = done(events)
    expect(events[0]!.type).toBe('started')
    const [a, b, out] = await Promise.all([readAll(path('a.safetensors')), readAll(path('b.safetensors')), readAll(result.path)])
    expect([...out.keys()].sort()).toEqual([...a.keys()].sort())
    let merged = 0
    for (const [key, tensor] of out) {
      const x = a.get(key)!
      if (tensor.dtype === 'I64') {
        expect(x.dtype, key).toBe('I64')
        expect(tensor.values, key).toEqual(x.values)
        continue
      }
      expect(tensor.dtype, key).toBe('F32')
      const mergedComponent = key.startsWith('model.diffusion_model.') || key.startsWith('cond_stage_model.')
      if (!mergedComponent) {
        expect(tensor.values, key).toEqual(x.values)
        continue
      }
      const alpha = alphas[block(key)] ?? 0.25
      const y = b.get(key)!.values
      expectClose(tensor.values, Array.from(x.values, (v, i) => lerp64(v, y[i]!, alpha)))
      merged++
    }
    expect(merged).toBeGreaterThan(800)
    const embedded = Recipe.parse(JSON.parse((await openSafetensors(result.path)).metadata['amalgam.recipe']!))
    expect(embedded).toEqual(result.lineage.recipe)
    expect(embedded.merge.params.alpha).toEqual({ value: 0.25, blocks: alphas })
  })

  it('makes an inpainting model: a + (b - base) on the first 4 channels of the first convolution, a elsewhere', async () => {
    const result = done(
      await run({
        merge: { method: 'add_difference', inputs: [{ model: 'inpaint.safetensors' }, { model: 'b.safetensors' }], base: { model: 'c.safetensors' }, params: { alpha: 1 } },
        output: { path: 'inpaint-out.safetensors', dtype: 'fp32' },
      }),
    )
    const [a, b, c, out] = await Promise.all([readAll(path('inpaint.safetensors')), readAll(path('b.safetensors')), readAll(path('c.safetensors')), readAll(result.path)])
    const conv = out.get(K.in00)!
    expect(conv.shape).toEqual([3, 9, 3, 3])
    const x = a.get(K.in00)!.values
    const y = b.get(K.in00)!.values
    const z = c.get(K.in00)!.values
    const expected: number[] = []
    for (let o = 0; o < 3; o++) {
      for (let ch = 0; ch < 9; ch++) {
        for (let s = 0; s < 9; s++) {
          const full = (o * 9 + ch) * 9 + s
          const narrow = (o * 4 + ch) * 9 + s
          expected.push(ch < 4 ? x[full]! + (y[narrow]! - z[narrow]!) : x[full]!)
        }
      }
    }
    expectClose(conv.values, expected)
    const q = out.get(K.clipQ)!.values
    const [qa, qb, qc] = [a, b, c].map((m) => m.get(K.clipQ)!.values)
    expectClose(q, Array.from(qa!, (v, i) => v + (qb![i]! - qc![i]!)))
  })

  it('runs nested task arithmetic: base + 0.5 x ((legal - base) + (recipe - base))', async () => {
    const result = done(
      await run({
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
        output: { path: 'nested.safetensors', dtype: 'fp32' },
      }),
    )
    const [a, b, c, out] = await Promise.all([readAll(path('a.safetensors')), readAll(path('b.safetensors')), readAll(path('c.safetensors')), readAll(result.path)])
    for (const key of [K.in05, K.clipQ, K.mid, K.outConv]) {
      const [x, y, z] = [a, b, c].map((m) => m.get(key)!.values)
      expectClose(out.get(key)!.values, Array.from(x!, (base, i) => base + 0.5 * ((y![i]! - base) + (z![i]! - base))), 1e-5, 1e-7)
    }
  })

  it('gives a byte-identical file when run again, and leaves the inputs unchanged', async () => {
    const inputs = ['a.safetensors', 'b.safetensors'].map(path)
    const before = inputs.map(sha256File)
    const body: Body = { merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { alpha: 0.3 } }, output: { path: 'again.safetensors' } }
    const first = sha256File(done(await run(body)).path)
    rmSync(path('again.safetensors'))
    rmSync(path('again.lineage.json'))
    expect(sha256File(done(await run(body)).path)).toBe(first)
    expect(inputs.map(sha256File)).toEqual(before)
  })

  it('reports a blocked plan as failed, with the findings, before starting', async () => {
    const events = await run({ merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'inpaint.safetensors' }] }, output: { path: 'blocked.safetensors' } })
    expect(events).toEqual([{ type: 'failed', error: { code: 'SHAPE_MISMATCH', message: expect.stringMatching(/^the merge was not started: the inputs hold 1 key with different shapes/) as string } }])
    expect(existsSync(path('blocked.safetensors'))).toBe(false)

    const missing = await run({ merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'nope.safetensors' }] }, output: { path: 'blocked.safetensors' } })
    expect(missing).toEqual([{ type: 'failed', error: { code: 'FILE_NOT_FOUND', message: `merge.inputs[1]: ${path('nope.safetensors')}: file not found` } }])
  })

  it('reports cancelled and leaves nothing behind when aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    const events = await run({ merge: { method: 'weighted_sum', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }] }, output: { path: 'cancelled.safetensors' } }, controller.signal)
    expect(events).toEqual([{ type: 'cancelled' }])
    expect(readdirSync(dir).filter((f) => f.startsWith('cancelled'))).toEqual([])
  })
})
