import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { TensorLocator } from '../../src-main/engine/formats/checkpoint'
import { channelView } from '../../src-main/engine/plan/expressions'

/** Flat C-order index of `index` in a contiguous tensor of `shape`. */
function flatIndex(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((flat, i, d) => flat * shape[d]! + i, 0)
}

/** Every index of `shape` in C order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const index = shape.map(() => 0)
  if (shape.some((d) => d === 0)) return
  for (;;) {
    yield [...index]
    let d = shape.length - 1
    while (d >= 0 && ++index[d]! === shape[d]) index[d--] = 0
    if (d < 0) return
  }
}

describe('channelView', () => {
  it('addresses the first channels of dimension 1 of the stored tensor, element for element', () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 }).filter((s) => s[1]! >= 2)
    fc.assert(
      fc.property(shapes, fc.integer({ min: 1, max: 3 }), fc.constantFrom<'F16' | 'F32'>('F16', 'F32'), (shape, wanted, dtype) => {
        const count = Math.min(wanted, shape[1]! - 1)
        const size = dtype === 'F16' ? 2 : 4
        const full: TensorLocator = { path: '/m.safetensors', key: 'k', dtype, shape, offset: 1000, byteLength: shape.reduce((p, d) => p * d, 1) * size }
        const view = channelView(full, 1, count)
        expect(view.shape).toEqual(shape.map((d, i) => (i === 1 ? count : d)))
        expect(view.offset).toBe(1000)
        let highest = 0
        for (const index of indices(view.shape)) {
          const storage = index.reduce((sum, i, d) => sum + i * view.strides![d]!, 0)
          expect(storage).toBe(flatIndex(shape, index))
          highest = Math.max(highest, storage)
        }
        expect(view.byteLength).toBe((highest + 1) * size)
        expect(view.byteLength).toBeLessThanOrEqual(full.byteLength)
      }),
    )
  })

  it('keeps the strides of a view that is already strided (a transposed torch tensor)', () => {
    // a [2, 3] view of a [3, 2] storage (transposed): element [i, j] is storage [j, i]
    const transposed: TensorLocator = { path: '/m.pt', dtype: 'F32', shape: [2, 3], strides: [1, 2], offset: 64, byteLength: 24 }
    const view = channelView(transposed, 1, 2)
    expect(view).toEqual({ ...transposed, shape: [2, 2], strides: [1, 2], byteLength: (1 + 2 + 1) * 4 })
  })
})
