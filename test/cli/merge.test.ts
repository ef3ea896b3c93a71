import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MergeEvent } from '../../src-main/common/events'
import { PlanSummary } from '../../src-main/common/plan-summary'
import type { CommandIO } from '../../src-main/cli/command'
import { main } from '../../src-main/cli/main'
import { parseMergeArgs, parseParamValue } from '../../src-main/cli/commands/merge-args'
import { K, expectClose, lerp64, readAll, writeModel } from '../plan/support'

let dir: string
const path = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-cli-merge-'))
  mkdirSync(path('models'))
  await writeModel(path('models/a.safetensors'), { seed: 1 })
  await writeModel(path('models/b.safetensors'), { seed: 2 })
  await writeModel(path('models/inpaint.safetensors'), { seed: 5, synthetic: { variant: 'inpainting' } })
})

interface Run {
  code: number
  out: string[]
  err: string[]
}

async function amalgam(args: readonly string[], onOut?: (line: string) => void): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = {
    out: (text) => {
      out.push(text)
      onOut?.(text)
    },
    err: (text) => err.push(text),
    interactive: false,
  }
  const code = await main(args, io)
  return { code, out, err }
}

const SD1_BLOCKS = 26

describe('amalgam merge', () => {
  it('merges from flags: method alias, inputs, per-block parameters, dtype', async () => {
    const blocks = Array.from({ length: SD1_BLOCKS }, (_, i) => (i === 6 ? '0.9' : '0.2')).join(',')
    const out = path('flags.safetensors')
    const run = await amalgam(['merge', '--method', 'lerp', '--input', path('models/a.safetensors'), '--input', path('models/b.safetensors'), '--param', 'alpha=0.4', '--blocks', `alpha=${blocks}`, '--dtype', 'fp32', '--seed', '7', '--out', out])
    expect(run.err.join('\n')).not.toMatch(/amalgam merge:/)
    expect(run.code).toBe(0)
    expect(run.out[0]).toMatch(/^wrote .*flags\.safetensors in /)
    const [a, b, merged] = await Promise.all([readAll(path('models/a.safetensors')), readAll(path('models/b.safetensors')), readAll(out)])
    // the 7th value is IN05 (BASE, IN00, ..., IN05)
    const x = a.get(K.in05)!.values
    const y = b.get(K.in05)!.values
    expectClose(merged.get(K.in05)!.values, Array.from(x, (v, i) => lerp64(v, y[i]!, 0.9)))
    const qx = a.get(K.clipQ)!.values
    const qy = b.get(K.clipQ)!.values
    expectClose(merged.get(K.clipQ)!.values, Array.from(qx, (v, i) => lerp64(v, qy[i]!, 0.2)))
    expect(merged.get(K.in05)!.dtype).toBe('F32')
  })

  it('reads --param values as numbers, booleans, words and one number per input', async () => {
    const request = await parseMergeArgs(
      ['--method', 'linear', '--input', 'a.safetensors', '--input', 'b.safetensors', '--param', 'weight=0.3,0.7', '--param', 'normalize=false', '--out', 'x.safetensors'],
      { jsonProgress: true, json: false },
    )
    expect(request.recipe.merge).toEqual({ method: 'linear', inputs: [{ model: 'a.safetensors' }, { model: 'b.safetensors' }], params: { weight: [0.3, 0.7], normalize: false } })
    expect(request.cwd).toBe(process.cwd())
    expect([parseParamValue('1e-3'), parseParamValue('true'), parseParamValue('mergekit'), parseParamValue('-1,.5')]).toEqual([0.001, true, 'mergekit', [-1, 0.5]])
  })

  it('merges from a recipe file whose paths are relative to it, with --json-progress events', async () => {
    const recipeDir = path('recipes')
    mkdirSync(recipeDir, { recursive: true })
    const recipe = {
      format: 'amalgam.recipe',
      version: 1,
      merge: { method: 'add_difference', inputs: [{ model: '../models/inpaint.safetensors' }, { model: '../models/b.safetensors' }], base: { model: '../models/a.safetensors' } },
      output: { path: 'made-inpainting.safetensors' },
    }
    writeFileSync(join(recipeDir, 'inpaint.json'), JSON.stringify(recipe))
    const run = await amalgam(['merge', join(recipeDir, 'inpaint.json'), '--json-progress'])
    expect(run.code).toBe(0)
    const events = run.out.map((line) => MergeEvent.parse(JSON.parse(line)))
    expect(events[0]!.type).toBe('started')
    expect(events.some((e) => e.type === 'progress' && e.phase === 'merging')).toBe(true)
    const last = events.at(-1)!
    expect(last.type).toBe('done')
    expect(last.type === 'done' && last.path).toBe(join(recipeDir, 'made-inpainting.safetensors'))
    expect(existsSync(join(recipeDir, 'made-inpainting.safetensors'))).toBe(true)

    const elsewhere = path('elsewhere.safetensors')
    const moved = await amalgam(['merge', join(recipeDir, 'inpaint.json'), '--out', elsewhere])
    expect(moved.code).toBe(0)
    expect(existsSync(elsewhere)).toBe(true)
  })

  it('exits 1 with the reason when the merge is refused, and 130 when interrupted', async () => {
    const refused = await amalgam(['merge', '--method', 'weighted_sum', '--input', path('models/a.safetensors'), '--input', path('models/inpaint.safetensors'), '--out', path('refused.safetensors')])
    expect(refused.code).toBe(1)
    expect(refused.err.join('\n')).toMatch(/amalgam merge: the merge was not started: the inputs hold 1 key with different shapes/)

    const interrupted = path('interrupted.safetensors')
    const run = await amalgam(
      ['merge', '--method', 'weighted_sum', '--input', path('models/a.safetensors'), '--input', path('models/b.safetensors'), '--out', interrupted, '--json-progress'],
      (line) => {
        if ((JSON.parse(line) as MergeEvent).type === 'started') process.emit('SIGINT')
      },
    )
    expect(run.code).toBe(130)
    expect(run.out.map((line) => (JSON.parse(line) as MergeEvent).type).at(-1)).toBe('cancelled')
    expect(readdirSync(dir).filter((f) => f.startsWith('interrupted'))).toEqual([])
  })

  it('exits 2 on usage errors', async () => {
    const cases: string[][] = [
      ['merge'],
      ['merge', '--method', 'lerp', '--out', path('x.safetensors')],
      ['merge', '--method', 'lerp', '--input', path('models/a.safetensors')],
      ['merge', path('r.json'), '--method', 'lerp'],
      ['merge', '--method', 'lerp', '--input', path('models/a.safetensors'), '--param', 'alpha', '--out', path('x.safetensors')],
      ['merge', '--method', 'lerp', '--input', path('models/a.safetensors'), '--blocks', 'alpha=1,2,3', '--out', path('x.safetensors')],
      ['merge', '--method', 'lerp', '--input', path('models/a.safetensors'), '--dtype', 'fp64', '--out', path('x.safetensors')],
      ['merge', '--bogus'],
    ]
    for (const args of cases) {
      const run = await amalgam(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.err.join('\n'), args.join(' ')).toMatch(/usage: amalgam merge/)
    }
    const blocks = await amalgam(['merge', '--method', 'lerp', '--input', path('models/a.safetensors'), '--blocks', 'alpha=1,2,3', '--out', path('x.safetensors')])
    expect(blocks.err[0]).toMatch(/--blocks alpha: sd1 has 26 blocks in the supermerger 2025-11 convention \(BASE, IN00, .*\), got 3 values/)
  })
})

describe('amalgam plan', () => {
  it('prints the pre-flight summary without writing, exit 0 when ready and 1 when blocked', async () => {
    const out = path('planned.safetensors')
    const ready = await amalgam(['plan', '--method', 'weighted_sum', '--input', path('models/a.safetensors'), '--input', path('models/b.safetensors'), '--param', 'alpha=0.5', '--out', out])
    expect(ready.code).toBe(0)
    const text = ready.out.join('\n')
    expect(text).toMatch(/^architecture {2}sd1 \(supermerger 2025-11 blocks\)/)
    expect(text).toMatch(/keys {10}\d+: \d+ merged, \d+ copied/)
    expect(text).toMatch(/ready to merge$/)
    expect(existsSync(out)).toBe(false)

    const blocked = await amalgam(['plan', '--method', 'weighted_sum', '--input', path('models/a.safetensors'), '--input', path('models/inpaint.safetensors'), '--out', out, '--json'])
    expect(blocked.code).toBe(1)
    const summary = PlanSummary.parse(JSON.parse(blocked.out.join('\n')))
    expect(summary.ok).toBe(false)
    expect(summary.findings.map((f) => f.code)).toContain('SHAPE_MISMATCH')

    const broken = await amalgam(['plan', '--method', 'weighted_sum', '--input', path('models/a.safetensors'), '--input', path('models/missing.safetensors'), '--out', out])
    expect(broken.code).toBe(1)
    expect(broken.out.join('\n')).toMatch(/✖ merge\.inputs\[1\]: .*missing\.safetensors: file not found\nnot ready: 1 blocking finding$/)
    expect(existsSync(out)).toBe(false)
  })
})
