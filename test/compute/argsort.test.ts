import { describe, expect, it } from 'vitest'
import { stableArgsort } from '../../src-main/engine/compute/argsort'

function reference(values: Float32Array): number[] {
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v)
  return Array.from(values.keys()).sort((p, q) => {
    const a = values[p]!
    const b = values[q]!
    if (key(a) !== key(b)) return key(a) < key(b) ? -1 : 1
    return (Number.isNaN(a) ? 1 : 0) - (Number.isNaN(b) ? 1 : 0) || p - q
  })
}

describe('stableArgsort', () => {
  it('orders values ascending, ties (and −0 / +0) by position, NaN last', () => {
    const values = Float32Array.from([3, -1, 0, -0, NaN, Infinity, -Infinity, 3, -1e-30, 1e-30, 2.5, -2.5, 0, NaN, 1e38, -1e38])
    expect(Array.from(stableArgsort(values))).toEqual(reference(values))
  })

  it('matches the comparator sort on many random values with duplicates', () => {
    let s = 7
    const values = Float32Array.from({ length: 50_000 }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      return Math.round((s / 4294967296 - 0.5) * 2000) / 16
    })
    expect(Array.from(stableArgsort(values))).toEqual(reference(values))
    expect(stableArgsort(new Float32Array(0)).length).toBe(0)
  })
})
