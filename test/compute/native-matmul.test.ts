import type * as tfc from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { Rng } from '../../src-main/engine/compute/rng'
import { mat, mul, tr, type Mat } from '../support/naive-matrix'
import { testBackend } from '../support/run-method'

const backend = await testBackend()
const native = backend.matMul.startsWith('native')
// CI builds the addon on purpose (AMALGAM_REQUIRE_NATIVE=1): there a missing build must fail
const required = process.env.AMALGAM_REQUIRE_NATIVE === '1'

const random = (rows: number, cols: number, seed: number): Mat => {
  const rng = new Rng([seed, 3, 5, 7])
  return mat(rows, cols, () => Math.fround(rng.normal()))
}

/** tf.matMul of a (or aᵀ) and b (or bᵀ) against the float64 product, relative to the operands' scale */
function expectProduct(a: Mat, b: Mat, transposeA: boolean, transposeB: boolean): void {
  const { tf } = backend
  const ta = tf.tensor2d(Float32Array.from(a.data), [a.rows, a.cols])
  const tb = tf.tensor2d(Float32Array.from(b.data), [b.rows, b.cols])
  const product = tf.matMul(ta, tb, transposeA, transposeB)
  const got = product.dataSync()
  tf.dispose([ta, tb, product])
  const expected = mul(transposeA ? tr(a) : a, transposeB ? tr(b) : b)
  expect(got.length).toBe(expected.data.length)
  const inner = transposeA ? a.rows : a.cols
  // float32 accumulation of `inner` unit-variance products
  const tolerance = 1e-6 * Math.sqrt(Math.max(inner, 1)) * 8
  let worst = 0
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected.data[i]!))
  expect(worst).toBeLessThanOrEqual(tolerance)
}

describe('native matrix product (wasm backend)', () => {
  it.runIf(required)('is built and used where CI requires it', () => {
    expect(backend.matMul).toMatch(/^native \((avx2|portable)\)$/)
  })

  describe.runIf(native)('equals the float64 product', () => {
    // sizes around the kernel's tiles (6 x 16 registers, k blocks of 256, row blocks of 144)
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [5, 17, 3],
      [6, 16, 256],
      [7, 33, 257],
      [145, 31, 513],
      [300, 40, 20],
    ]
    for (const [m, n, k] of shapes) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          it(`${m} x ${k} times ${k} x ${n}, transposeA ${transposeA}, transposeB ${transposeB}`, () => {
            const a = transposeA ? random(k, m, m + k) : random(m, k, m + k)
            const b = transposeB ? random(n, k, n * 3 + k) : random(k, n, n * 3 + k)
            expectProduct(a, b, transposeA, transposeB)
          })
        }
      }
    }

    it('gives zeros for an empty inner dimension', () => {
      const { tf } = backend
      const product = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]))
      expect(Array.from(product.dataSync())).toEqual(new Array<number>(12).fill(0))
      product.dispose()
    })

    it('multiplies batches, and one matrix against a batch', () => {
      const { tf } = backend
      const a = random(2 * 4, 5, 1)
      const b = random(5, 3, 2)
      const c = random(2 * 5, 3, 3)
      const ta = tf.tensor3d(Float32Array.from(a.data), [2, 4, 5])
      const tb = tf.tensor2d(Float32Array.from(b.data), [5, 3])
      const tc = tf.tensor3d(Float32Array.from(c.data), [2, 5, 3])
      const shared = tf.matMul(ta, tf.expandDims(tb, 0) as tfc.Tensor3D)
      const paired = tf.matMul(ta, tc)
      for (let batch = 0; batch < 2; batch++) {
        const aBatch = mat(4, 5, (i, j) => a.data[batch * 20 + i * 5 + j]!)
        const cBatch = mat(5, 3, (i, j) => c.data[batch * 15 + i * 3 + j]!)
        const expectShared = mul(aBatch, b)
        const expectPaired = mul(aBatch, cBatch)
        const gotShared = shared.dataSync().subarray(batch * 12, batch * 12 + 12)
        const gotPaired = paired.dataSync().subarray(batch * 12, batch * 12 + 12)
        for (let i = 0; i < 12; i++) {
          expect(gotShared[i]).toBeCloseTo(expectShared.data[i]!, 4)
          expect(gotPaired[i]).toBeCloseTo(expectPaired.data[i]!, 4)
        }
      }
      expect(shared.shape).toEqual([2, 4, 3])
      tf.dispose([ta, tb, tc, shared, paired])
    })

    it('leaves mismatched shapes to tfjs, which names them', () => {
      const { tf } = backend
      expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 2]))).toThrow(/inner shapes \(3\) and \(4\)/)
    })
  })
})
