import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tf } from '../../src-main/engine/compute/backend'
import {
  CutCursor,
  cutFromStatistic,
  cutRank,
  defaultSelectionStrategy,
  orderByMagnitudeBits,
  selectAbs,
  selectAbsWithSums,
  visitInMagnitudeOrder,
  type AbsRankQuery,
  type BlockSource,
  type SelectionStrategy,
} from '../../src-main/engine/compute/selection'
import { testBackend } from '../support/run-method'

/** a source that hands out the arrays in blocks of `blockSize` (the last one shorter) */
function blocksOf(arrays: readonly Float32Array[], blockSize: number): BlockSource {
  return (visit) => {
    const n = arrays[0]!.length
    for (let start = 0; start < n; start += blockSize) {
      const end = Math.min(n, start + blockSize)
      visit(
        arrays.map((a) => a.subarray(start, end)),
        end - start,
      )
    }
  }
}

/** the naive reference: magnitudes in float64 (NaN as +Infinity), sorted ascending */
function naiveStatistic(x: Float32Array, rank: number): { value: number; below: number; equal: number; sumAbove: number } {
  const keys = Array.from(x, (v) => (Number.isNaN(v) ? Infinity : Math.abs(v)))
  const sorted = [...keys].sort((p, q) => p - q)
  const value = sorted[rank - 1]!
  let sumAbove = 0
  for (const k of keys) if (k > value) sumAbove += k
  return { value, below: keys.filter((k) => k < value).length, equal: keys.filter((k) => k === value).length, sumAbove }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/** values with many exact ties, signs, zeros (both signs), and a few non-finite entries */
function tiedValues(n: number, seed: number, specials = true): Float32Array {
  const rnd = lcg(seed)
  return Float32Array.from({ length: n }, (_, i) => {
    if (specials && i % 997 === 5) return [NaN, Infinity, -Infinity][i % 3]!
    if (i % 11 === 0) return i % 2 ? -0 : 0
    return (Math.round((rnd() - 0.5) * 64) / 16) * (rnd() < 0.5 ? 1 : 1.0000001)
  })
}

function evenSample(x: Float32Array, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => x[Math.floor(((i + 0.5) * x.length) / count)]!)
}

const STRATEGIES: readonly SelectionStrategy[] = ['radix', 'topk']

describe('selectAbs', () => {
  it.each(STRATEGIES)('matches a float64 sort with ties, zeros and non-finite values (%s)', async (strategy) => {
    const { tf } = await testBackend()
    const x = tiedValues(5000, 1)
    const y = tiedValues(5000, 2)
    const ranks = [1, 2, 777, 2500, 4000, 4999, 5000]
    const queries = ranks.flatMap((rank) => [{ sequence: 0, rank }, { sequence: 1, rank }])
    for (const blockSize of [1, 7, 1000, 5000]) {
      const stats = selectAbs(tf, blocksOf([x, y], blockSize), x.length, queries, { strategy })
      queries.forEach((q, i) => {
        const want = naiveStatistic(q.sequence === 0 ? x : y, q.rank)
        expect(stats[i], `rank ${q.rank} of ${q.sequence}, blocks of ${blockSize}`).toEqual({ value: want.value, below: want.below, equal: want.equal })
      })
    }
  })

  it.each(STRATEGIES)('agrees with the sort on arbitrary float32 arrays (%s)', async (strategy) => {
    const { tf } = await testBackend()
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 64 }), (x, r, blockSize) => {
        const rank = 1 + (r % x.length)
        const [stat] = selectAbs(tf, blocksOf([x], blockSize), x.length, [{ sequence: 0, rank }], { strategy })
        const want = naiveStatistic(x, rank)
        expect(stat).toEqual({ value: want.value, below: want.below, equal: want.equal })
      }),
      { numRuns: strategy === 'topk' ? 60 : 300 },
    )
  })

  it('finds the statistic in one windowed pass, and falls back when the window misses', async () => {
    const { tf } = await testBackend()
    const n = 200_000
    const x = tiedValues(n, 3)
    const rank = Math.floor(0.8 * n)
    const want = naiveStatistic(x, rank)
    const expected = { value: want.value, below: want.below, equal: want.equal }
    let passes = 0
    const counting: BlockSource = (visit) => {
      passes++
      blocksOf([x], 4096)(visit)
    }
    const good = selectAbs(tf, counting, n, [{ sequence: 0, rank }], { strategy: 'radix', sample: () => [evenSample(x, 4096)] })
    expect(good[0]).toEqual(expected)
    expect(passes).toBe(1)
    // a sample from the wrong distribution puts the window elsewhere: exact all the same
    passes = 0
    const misleading = Float32Array.from({ length: 4096 }, (_, i) => i * 1e-6)
    expect(selectAbs(tf, counting, n, [{ sequence: 0, rank }], { strategy: 'radix', sample: () => [misleading] })[0]).toEqual(expected)
    expect(passes).toBe(3)
    // no sample, or a window larger than allowed: two histogram passes
    passes = 0
    expect(selectAbs(tf, counting, n, [{ sequence: 0, rank }], { strategy: 'radix' })[0]).toEqual(expected)
    expect(passes).toBe(2)
    passes = 0
    expect(selectAbs(tf, counting, n, [{ sequence: 0, rank }], { strategy: 'radix', sample: () => [evenSample(x, 4096)], maxCollected: 1000 })[0]).toEqual(expected)
    expect(passes).toBe(2)
  })

  it('returns sums above each statistic and totals (both strategies)', async () => {
    const { tf } = await testBackend()
    const x = tiedValues(3000, 4, false)
    const big = tiedValues(150_000, 5, false)
    for (const strategy of STRATEGIES) {
      for (const [data, sample] of [
        [x, undefined],
        [big, () => [evenSample(big, 4096)]],
        [big, undefined],
      ] as const) {
        const queries: AbsRankQuery[] = [1, Math.floor(data.length / 3), data.length].map((rank) => ({ sequence: 0, rank }))
        const { stats, totals } = selectAbsWithSums(tf, blocksOf([data], 999), data.length, queries, { strategy, ...(sample ? { sample } : {}) })
        const total = Array.from(data, Math.abs).reduce((p, q) => p + q, 0)
        const tolerance = strategy === 'topk' ? 1e-5 : 1e-9
        expect(Math.abs(totals[0]! - total)).toBeLessThanOrEqual(tolerance * total)
        queries.forEach((q, i) => {
          const want = naiveStatistic(data, q.rank)
          expect(stats[i]!.value).toBe(want.value)
          expect(Math.abs(stats[i]!.sumAbove - want.sumAbove)).toBeLessThanOrEqual(tolerance * total)
        })
      }
    }
  })

  it('refuses ranks outside 1..n', async () => {
    const { tf } = await testBackend()
    const x = new Float32Array([1, 2, 3])
    expect(() => selectAbs(tf, blocksOf([x], 3), 3, [{ sequence: 0, rank: 0 }])).toThrow(RangeError)
    expect(() => selectAbs(tf, blocksOf([x], 3), 3, [{ sequence: 0, rank: 4 }])).toThrow(RangeError)
  })

  it('uses the radix select on wasm and tf.topk on the tensorflow backends', async () => {
    const { tf } = await testBackend()
    expect(defaultSelectionStrategy(tf, 1000)).toBe('radix')
    const native = { getBackend: () => 'tensorflow' } as unknown as Tf
    expect(defaultSelectionStrategy(native, 1000)).toBe('topk')
    expect(defaultSelectionStrategy(native, 2 ** 28)).toBe('radix')
  })
})

describe('descending cuts', () => {
  it('keep exactly `count` elements, larger first and lower index first among ties', async () => {
    const { tf } = await testBackend()
    const x = tiedValues(2000, 6)
    const n = x.length
    const order = Array.from(x, (v, i) => ({ key: Number.isNaN(v) ? Infinity : Math.abs(v), i })).sort((p, q) => q.key - p.key || p.i - q.i)
    for (const count of [0, 1, 5, 333, 1000, 1999, 2000, 2500]) {
      const rank = cutRank(count, n)
      const stat = rank === null ? null : selectAbs(tf, blocksOf([x], 64), n, [{ sequence: 0, rank }])[0]!
      const cursor = new CutCursor(cutFromStatistic(count, n, stat))
      const kept = Array.from(x, (v) => cursor.next(Number.isNaN(v) ? Infinity : Math.abs(v)))
      const want = new Array<boolean>(n).fill(false)
      for (const { i } of order.slice(0, Math.max(0, count))) want[i] = true
      expect(kept, `count ${count}`).toEqual(want)
    }
  })
})

describe('magnitude ranks', () => {
  const naiveOrder = (x: Float32Array): number[] =>
    Array.from(x, (v, i) => ({ key: Number.isNaN(v) ? Infinity : Math.abs(v), i }))
      .sort((p, q) => p.key - q.key || p.i - q.i)
      .map((e) => e.i)

  it('orders bit patterns stably (insertion and radix sizes)', () => {
    for (const n of [0, 1, 10, 63, 64, 65, 5000]) {
      const x = tiedValues(n, 7 + n)
      const bits = new Uint32Array(n)
      const view = new Uint32Array(x.buffer)
      for (let i = 0; i < n; i++) bits[i] = Math.min(view[i]! & 0x7fffffff, 0x7f800000)
      const before = bits.slice()
      const order = new Uint32Array(n)
      const scratch = [new Uint32Array(n), new Uint32Array(n), new Uint32Array(n), new Uint32Array(n)] as const
      orderByMagnitudeBits(bits, n, order, scratch)
      expect([...order], `n ${n}`).toEqual(naiveOrder(x))
      expect(bits).toEqual(before)
    }
  })

  it('visits every element once in ordinal-rank order, in bounded batches', () => {
    const n = 6000
    const mixed = tiedValues(n, 8)
    // mostly one repeated value: a single histogram bucket and a single value larger than the batch
    const repeated = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? (i % 7) * 0.25 : 0.5))
    for (const x of [mixed, repeated]) {
      const want = naiveOrder(x)
      for (const [maxBatch, blockSize] of [
        [n, 100],
        [500, 37],
        [64, 1000],
        [1, 3],
      ] as const) {
        const seen: number[] = []
        let largest = 0
        visitInMagnitudeOrder(blocksOf([x], blockSize), n, maxBatch, (indices, firstRank) => {
          expect(firstRank).toBe(seen.length + 1)
          largest = Math.max(largest, indices.length)
          seen.push(...indices)
        })
        expect(seen, `batch ${maxBatch}`).toEqual(want)
        expect(largest).toBeLessThanOrEqual(maxBatch)
      }
    }
  })
})
