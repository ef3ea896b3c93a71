import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { MergeEvent } from '../../src-main/common/events'
import { runRecipe } from '../../src-main/engine/execute/run-recipe'
import { importMergekit } from '../../src-main/engine/mergekit/import'
import { parseRecipe } from '../../src-main/engine/recipe/parse'
import { amalgam } from '../cli/support-library'
import { interp, readFolder, SMALL, writeHfFolder } from '../llm/support'

let dir: string
const at = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amalgam-mergekit-merge-'))
  await writeHfFolder(at('a'), { seed: 11, shards: 2 })
  await writeHfFolder(at('b'), { seed: 12, shards: 3 })
})

const LINEAR = `
merge_method: linear
models:
  - model: a
    parameters:
      weight:
        - { filter: self_attn, value: [1, 0] }
        - { value: 0.5 }
  - model: b
    parameters: { weight: 2 }
dtype: float32
`

describe('an imported mergekit config merges end to end', () => {
  it('linear with a filtered gradient weight: every tensor is mergekit’s weighted average (float64 reference)', async () => {
    const { recipe } = importMergekit(LINEAR, 'linear.yml', { dir, outputPath: 'out' })
    const events: MergeEvent[] = []
    await runRecipe(parseRecipe(recipe), { cwd: dir, signal: new AbortController().signal, hashCache: null, onEvent: (e) => events.push(MergeEvent.parse(e)) })
    expect(events.at(-1)?.type).toBe('done')
    const [a, b, out] = await Promise.all([readFolder(at('a')), readFolder(at('b')), readFolder(at('out'))])
    expect([...out.keys()].sort()).toEqual([...a.keys()].sort())
    for (const [key, tensor] of out) {
      const m = /^model\.layers\.(\d+)\./.exec(key)
      const t = m === null ? 0 : Number(m[1]) / (SMALL.layers - 1)
      const wa = key.includes('self_attn') ? interp([1, 0], t) : 0.5
      const av = a.get(key)?.values
      const bv = b.get(key)?.values
      if (av === undefined || bv === undefined) throw new Error(`missing ${key}`)
      for (let i = 0; i < tensor.values.length; i++) {
        const expected = (wa * av[i]! + 2 * bv[i]!) / (wa + 2)
        expect(Math.abs(tensor.values[i]! - expected), `${key}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)))
      }
    }
    const config = JSON.parse(readFileSync(at('out/config.json'), 'utf8')) as { torch_dtype: string }
    expect(config.torch_dtype).toBe('float32')
  })
})

describe('amalgam mergekit', () => {
  it('imports to a recipe file and exports it back, notes on stderr; refusals are one line naming the file', async () => {
    writeFileSync(at('linear.yml'), LINEAR)
    const recipePath = at('linear.recipe.json')
    const imported = await amalgam('mergekit', 'import', at('linear.yml'), '--out', recipePath)
    expect(imported.code).toBe(0)
    expect(imported.err).not.toMatch(/no such local path/) // models are looked up beside the config
    expect(parseRecipe(JSON.parse(readFileSync(recipePath, 'utf8'))).merge.params.weight).toHaveLength(2)
    const exported = await amalgam('mergekit', 'export', recipePath)
    expect(exported.code).toBe(0)
    expect(parseYaml(exported.out)).toMatchObject({ merge_method: 'linear', models: [{ model: 'a' }, { model: 'b', parameters: { weight: 2 } }], dtype: 'float32' })
    expect((await amalgam('mergekit', 'import', at('linear.yml'), '--out', recipePath)).err).toMatch(/exists \(pass --overwrite/)
    writeFileSync(at('bad.yml'), 'merge_method: sce\nmodels: [{ model: a }]\n')
    const refused = await amalgam('mergekit', 'import', at('bad.yml'))
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/^amalgam mergekit: .*bad\.yml: not translated: merge_method: "sce"/)
    expect((await amalgam('mergekit', 'convert', 'x')).code).toBe(2)
  })
})
