import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../src-main/engine/errors'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { medianFilter3 } from '../../src-main/engine/methods/smooth-filter'
import { runMethod } from '../support/run-method'
import { expectClose, expectSameValues, numel, sampleTensor } from './sample-tensors'

/*
 * The reference walks every element's neighbourhood by coordinates (scipy's "reflect" boundary:
 * −1 → 0, n → n − 1, period 2n), sorts it, and convolves axis by axis in float64, rounding to
 * float32 after each axis as scipy does for float32 arrays.
 */
function reflect(i: number, n: number): number {
  let j = ((i % (2 * n)) + 2 * n) % (2 * n)
  if (j >= n) j = 2 * n - 1 - j
  return j
}

function coordsOf(index: number, shape: readonly number[]): number[] {
  const coords: number[] = []
  for (let k = shape.length - 1; k >= 0; k--) {
    coords.unshift(index % shape[k]!)
    index = Math.floor(index / shape[k]!)
  }
  return coords
}

function indexOf(coords: readonly number[], shape: readonly number[]): number {
  return coords.reduce((index, c, k) => index * shape[k]! + c, 0)
}

function naiveMedian(x: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length === 0) return x.slice()
  return Float32Array.from(x, (_, i) => {
    const centre = coordsOf(i, shape)
    let neighbours: number[][] = [[]]
    for (let k = 0; k < shape.length; k++) {
      neighbours = neighbours.flatMap((prefix) => [-1, 0, 1].map((o) => [...prefix, reflect(centre[k]! + o, shape[k]!)]))
    }
    const values = neighbours.map((c) => x[indexOf(c, shape)]!).sort((p, q) => p - q)
    return values[(values.length - 1) / 2]!
  })
}

function naiveGaussian(x: Float32Array, shape: readonly number[]): Float32Array {
  const weights = [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((k) => Math.exp(-(k * k) / 2))
  const total = weights.reduce((s, w) => s + w, 0)
  let current = x.slice()
  for (let axis = 0; axis < shape.length; axis++) {
    if (shape[axis] === 1) continue
    const source = current
    current = Float32Array.from(source, (_, i) => {
      const coords = coordsOf(i, shape)
      let acc = 0
      for (let k = -4; k <= 4; k++) {
        const c = [...coords]
        c[axis] = reflect(coords[axis]! + k, shape[axis]!)
        acc += (weights[k + 4]! / total) * source[indexOf(c, shape)]!
      }
      return acc
    })
  }
  return current
}

function naiveSmoothAdd(a: Float32Array, b: Float32Array, c: Float32Array, alpha: number, shape: readonly number[]): Float64Array {
  const delta = Float32Array.from(b, (y, i) => y - c[i]!)
  const smoothed = naiveGaussian(naiveMedian(delta, shape), shape)
  return Float64Array.from(a, (x, i) => x + alpha * smoothed[i]!)
}

describe('median filter', () => {
  it('takes the middle of each reflected 3-neighbourhood (hand-computed)', () => {
    // i = 0: {1, 1, 5} → 1; i = 1: {1, 5, 2} → 2; i = 2: {5, 2, 2} → 2
    expect([...medianFilter3(Float32Array.from([1, 5, 2]), [3])]).toEqual([1, 2, 2])
  })

  it('matches the coordinate-walking reference where neighbouring medians jump (far guesses)', () => {
    const shape = [6, 5, 3, 3]
    const x = Float32Array.from({ length: numel(shape) }, (_, i) => (Math.floor(i / 9) % 2 === 0 ? 1000 : -1000) + Math.sin(i * 7.1))
    expect([...medianFilter3(x, shape)]).toEqual([...naiveMedian(x, shape)])
  })

  it('handles many equal values', () => {
    const shape = [5, 4, 3]
    const x = Float32Array.from({ length: 60 }, (_, i) => Math.round(Math.sin(i * 3.3) * 2) / 2)
    expect([...medianFilter3(x, shape)]).toEqual([...naiveMedian(x, shape)])
  })
})

describe('smooth_add_difference', () => {
  it('matches A + α·gaussian(median(B − C)) on every shape, including size-1 and short axes', async () => {
    for (const shape of [[], [1], [2], [7], [6, 5], [2, 1, 3], [4, 3, 3, 3], [3, 2, 1, 1]]) {
      const n = numel(shape)
      const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(n, s)) as [Float32Array, Float32Array, Float32Array]
      const { output } = await runMethod('smooth_add_difference', { inputs: [a, b], base: c, shape, params: { alpha: 0.8 } })
      expectClose(output, naiveSmoothAdd(a, b, c, 0.8, shape), 1e-6, 1e-7)
    }
  })

  it('keeps A exactly at alpha 0 and adds nothing where B equals C', async () => {
    const a = sampleTensor(60, 1)
    const b = sampleTensor(60, 2)
    expectSameValues((await runMethod('smooth_add_difference', { inputs: [a, b], base: sampleTensor(60, 3), shape: [6, 10], params: { alpha: 0 } })).output, a)
    expectClose((await runMethod('smooth_add_difference', { inputs: [a, b], base: b, shape: [6, 10] })).output, a, 0, 0)
  })

  it('removes an isolated spike in the difference', async () => {
    const delta = new Float32Array(49)
    delta[24] = 100
    const { output } = await runMethod('smooth_add_difference', { inputs: [new Float32Array(49), delta], base: new Float32Array(49), shape: [7, 7] })
    expect(output.every((v) => v === 0)).toBe(true)
  })

  it('writes the same result with tiny chunks', async () => {
    const [a, b, c] = [1, 2, 3].map((s) => sampleTensor(108, s))
    const opts = { inputs: [a!, b!], base: c!, shape: [4, 3, 3, 3] }
    expectSameValues((await runMethod('smooth_add_difference', { ...opts, chunkElements: 10 })).output, (await runMethod('smooth_add_difference', opts)).output)
  })

  it('needs a base, and accepts supermerger\'s calcmode names', async () => {
    const x = sampleTensor(4, 1)
    await expect(runMethod('smooth_add_difference', { inputs: [x, x] })).rejects.toSatisfy((e: unknown) => isAmalgamError(e, 'BAD_RECIPE'))
    expect(resolveMethod('smoothAdd').method.id).toBe('smooth_add_difference')
    expect(resolveMethod('smoothAdd MT').method.id).toBe('smooth_add_difference')
  })
})
