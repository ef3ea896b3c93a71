import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemorySink, type TensorStream } from '../../src-main/engine/compute/tensor-stream'
import { makeKernelContext } from '../../src-main/engine/execute/kernel-context'
import { columnSumsWithTf, mapSegmentsWithTf, segmentGroups, tfRowSum } from '../../src-main/engine/methods/kernel-helpers'
import { testBackend } from '../support/run-method'
import { expectClose, sampleTensor } from './sample-tensors'

/** a stream that records every range read, to check what the helpers hold at once */
class RecordingStream implements TensorStream {
  readonly reads: [number, number][] = []
  constructor(private readonly data: Float32Array) {}
  get numel(): number {
    return this.data.length
  }
  read(start: number, end: number): Float32Array {
    this.reads.push([start, end])
    // a fresh copy each time, as a file stream's reused buffer would not stay valid either
    return this.data.slice(start, end)
  }
  readAll(): Float32Array {
    return this.data.slice()
  }
}

describe('segmentGroups', () => {
  it('covers the tensor in order with pieces of at most a chunk that never cross a segment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 64 }), (segmentLength, segments, chunk) => {
        const numel = segmentLength * segments
        let next = 0
        for (const group of segmentGroups(numel, segmentLength, chunk)) {
          expect(group.length).toBeGreaterThan(0)
          if (group.length > 1) expect(group.every((p) => p.rows === 1 && Math.floor(p.start / segmentLength) === Math.floor(group[0]!.start / segmentLength))).toBe(true)
          for (const piece of group) {
            expect(piece.start).toBe(next)
            expect(piece.end - piece.start).toBe(piece.rows * piece.width)
            expect(piece.end - piece.start).toBeLessThanOrEqual(chunk)
            expect(piece.offset).toBe(piece.start % segmentLength)
            // inside one segment, or whole segments only
            if (piece.rows === 1 && piece.width < segmentLength) expect(piece.offset + piece.width).toBeLessThanOrEqual(segmentLength)
            else expect(piece.width === segmentLength && piece.offset === 0).toBe(true)
            next = piece.end
          }
        }
        expect(next).toBe(numel)
      }),
    )
  })
})

describe('tfRowSum', () => {
  it('sums rows longer than its 1024-column blocks', async () => {
    const { tf } = await testBackend()
    for (const cols of [5, 1024, 2048, 2500]) {
      const x = sampleTensor(3 * cols, cols)
      const sums = tf.tidy(() => tfRowSum(tf, tf.tensor2d(x, [3, cols])).dataSync())
      const expected = [0, 1, 2].map((r) => x.subarray(r * cols, (r + 1) * cols).reduce((s, v) => s + v, 0))
      expectClose(Float32Array.from(sums), expected, 1e-5, 1e-4)
    }
  })
})

describe('mapSegmentsWithTf / columnSumsWithTf', () => {
  async function context(data: Float32Array, shape: number[], chunkElements: number) {
    const { tf } = await testBackend()
    const stream = new RecordingStream(data)
    const sink = new MemorySink(data.length)
    const ctx = makeKernelContext({ key: 'k', shape, params: {}, inputs: [stream], base: null, out: sink, tf, seed: 0, node: 'n', chunkElements })
    return { ctx, stream, sink }
  }

  it('centres each segment on its mean, reading at most a chunk at a time, long segments twice and short ones once', async () => {
    const rows = 6
    for (const [segmentLength, chunkElements] of [[50, 16], [50, 200], [3, 16]] as const) {
      const data = sampleTensor(rows * segmentLength, 2)
      const { ctx, stream, sink } = await context(data, [rows, segmentLength], chunkElements)
      mapSegmentsWithTf(
        ctx,
        segmentLength,
        (tf, [x]) => [tfRowSum(tf, x!)],
        ([sum]) => (out, [x]) => {
          for (let i = 0; i < out.length; i++) out[i] = x![i]! - sum![Math.floor(i / segmentLength)]! / segmentLength
        },
      )
      const expected = Float64Array.from(data, (v, i) => {
        const s = Math.floor(i / segmentLength) * segmentLength
        return v - data.subarray(s, s + segmentLength).reduce((t, u) => t + u, 0) / segmentLength
      })
      expectClose(sink.data, expected, 1e-5, 1e-6)
      expect(Math.max(...stream.reads.map(([s, e]) => e - s))).toBeLessThanOrEqual(chunkElements)
      const elementsRead = stream.reads.reduce((t, [s, e]) => t + e - s, 0)
      expect(elementsRead).toBe(segmentLength > chunkElements ? 2 * data.length : data.length)
    }
  })

  it('sums columns over dim 0 when rows are split across chunks', async () => {
    const data = sampleTensor(5 * 40, 3)
    for (const chunkElements of [7, 40, 1000]) {
      const { ctx, stream } = await context(data, [5, 40], chunkElements)
      const [sums] = columnSumsWithTf(ctx, (_tf, [x]) => [x!])
      expectClose(Float32Array.from(sums!), Array.from({ length: 40 }, (_, j) => [0, 1, 2, 3, 4].reduce((t, r) => t + data[r * 40 + j]!, 0)), 1e-6, 1e-6)
      expect(Math.max(...stream.reads.map(([s, e]) => e - s))).toBeLessThanOrEqual(chunkElements)
    }
  })
})
