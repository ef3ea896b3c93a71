import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  blocksToText,
  effectiveBlockValues,
  gradientAt,
  parseBlocksText,
  regexProblem,
  varyMode,
  withBlocks,
  withGlobal,
  withGradient,
  withVaryMode,
} from '../../src-renderer/src/features/builder/number-value'

const blocks = ['BASE', 'IN00', 'IN01', 'M00', 'OUT00', 'OUT01'].map((id, i, all) => ({ id, group: id.replace(/\d+$/, ''), t: i / (all.length - 1), keys: 1 }))

/** mergekit's gradient, written out: the anchor segment that holds t, then a straight line. */
function naiveGradient(anchors: number[], t: number): number {
  if (anchors.length === 1) return anchors[0]!
  const segments = anchors.length - 1
  for (let s = 0; s < segments; s++) {
    const from = s / segments
    const to = (s + 1) / segments
    if (t <= to || s === segments - 1) {
      const f = (t - from) / (to - from)
      return anchors[s]! + (anchors[s + 1]! - anchors[s]!) * f
    }
  }
  return anchors[segments]!
}

const value = fc.double({ min: -4, max: 4, noNaN: true })

describe('per-block values', () => {
  it('interpolates a gradient as mergekit does', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 7 }), fc.double({ min: 0, max: 1, noNaN: true }), (anchors, t) => {
        expect(gradientAt(anchors, t)).toBeCloseTo(naiveGradient(anchors, t), 10)
      }),
    )
    expect(gradientAt([0, 1, 0.2], 0)).toBe(0)
    expect(gradientAt([0, 1, 0.2], 0.5)).toBe(1)
    expect(gradientAt([0, 1, 0.2], 1)).toBeCloseTo(0.2, 12)
  })

  it('gives each block what the recipe says, by its precedence', () => {
    expect(effectiveBlockValues(undefined, blocks, 0.5)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    expect(effectiveBlockValues(0.3, blocks, 0.5)).toEqual([0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    const gradient = { value: 0.3, gradient: [0, 1] }
    expect(effectiveBlockValues(gradient, blocks, 0.5).map((v) => Number(v.toFixed(6)))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    // per-block values win over the gradient where they are given
    expect(effectiveBlockValues({ ...gradient, blocks: { M00: 0.9 } }, blocks, 0.5)[3]).toBe(0.9)
  })

  it('switches modes starting from what the blocks get now, and tidies what is left', () => {
    const fromGradient = withVaryMode({ gradient: [0, 1] }, 'blocks', blocks, 0.5)
    expect(varyMode(fromGradient)).toBe('blocks')
    const materialised = typeof fromGradient === 'object' ? fromGradient.blocks : undefined
    expect(Object.keys(materialised ?? {})).toEqual(['BASE', 'IN00', 'IN01', 'M00', 'OUT00', 'OUT01'])
    Object.values(materialised ?? {}).forEach((v, i) => expect(v).toBeCloseTo(i / 5, 12))
    expect(withVaryMode({ value: 0.4, blocks: { M00: 1 } }, 'off', blocks, 0.5)).toBe(0.4)
    expect(withVaryMode(0.4, 'gradient', blocks, 0.5)).toEqual({ value: 0.4, gradient: [0.4, 0.4] })
    expect(withGradient({ value: 0.4, blocks: { M00: 1 } }, [1, 0])).toEqual({ value: 0.4, gradient: [1, 0] })
    expect(withBlocks({ gradient: [1, 0], keys: [{ pattern: 'x', value: 1 }] }, { M00: 1 })).toEqual({ blocks: { M00: 1 }, keys: [{ pattern: 'x', value: 1 }] })
    expect(withGlobal({ value: 0.4 }, undefined)).toBeUndefined()
  })

  it('reads back the block values it writes as text', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 30 }), (values) => {
        const rounded = values.map((v) => Number(v.toPrecision(6)))
        expect(parseBlocksText(blocksToText(values), values.length)).toEqual({ values: rounded.map((v) => (Object.is(v, -0) ? 0 : v)) })
      }),
    )
    expect(parseBlocksText('0, 0.5 1', 3)).toEqual({ values: [0, 0.5, 1] })
    expect(parseBlocksText('0,0.5', 3)).toEqual({ problem: 'expected 3 values, got 2' })
    expect(parseBlocksText('0,x,1', 3)).toEqual({ problem: '"x" is not a number' })
  })

  it('checks per-key patterns as JavaScript regular expressions', () => {
    expect(regexProblem('\\.attn\\d\\.')).toBeNull()
    expect(regexProblem('')).toBe('enter a regular expression')
    expect(regexProblem('[a-')).toMatch(/Unterminated character class/)
  })
})
