import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { MethodInfo } from '../../src-main/common/method-info'
import { METHODS } from '../../src-main/engine/methods/registry'
import { amalgam } from './support-library'

describe('amalgam methods', () => {
  it('lists every registered method with its aliases, inputs and parameters', async () => {
    const run = await amalgam('methods')
    expect(run.code).toBe(0)
    for (const m of METHODS) {
      expect(run.out).toContain(`\n${m.id}`.slice(m === METHODS[0] ? 1 : 0))
      for (const alias of m.aliases) expect(run.out).toContain(alias.name)
      for (const name of Object.keys(m.params)) expect(run.out).toContain(`  ${name}: `)
    }
  })

  it('--json prints declarations that satisfy the shared MethodInfo schema', async () => {
    const run = await amalgam('methods', '--json')
    const infos = z.array(MethodInfo).parse(JSON.parse(run.out))
    expect(infos.map((m) => m.id)).toEqual(METHODS.map((m) => m.id))
  })

  it('docs/METHODS.md is the current --markdown output', async () => {
    const run = await amalgam('methods', '--markdown')
    const doc = readFileSync(new URL('../../docs/METHODS.md', import.meta.url), 'utf8')
    // regenerate with: node bin/amalgam.mjs methods --markdown > docs/METHODS.md
    expect(doc).toBe(`${run.out}\n`)
  })

  it('every method and parameter is documented', () => {
    for (const m of METHODS) {
      expect(m.description.length, m.id).toBeGreaterThan(40)
      for (const [name, p] of Object.entries(m.params)) expect(p.description.length, `${m.id}.${name}`).toBeGreaterThan(5)
    }
  })

  it('refuses --json with --markdown', async () => {
    const run = await amalgam('methods', '--json', '--markdown')
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/cannot be combined/)
  })
})
