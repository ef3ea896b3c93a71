import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MemoryStream } from '../../src-main/engine/compute/tensor-stream'
import { BufferPool, FileStream } from '../../src-main/engine/execute/file-stream'
import { OutputHasher } from '../../src-main/engine/execute/output-hasher'
import { ChangeStats } from '../../src-main/engine/execute/output-sink'
import { TensorReader } from '../../src-main/engine/formats/tensor-reader'
import { useTempDir } from '../formats/support'
import { locatorOf, seededFloats, writeInput } from './support'

const tempDir = useTempDir()

describe('OutputHasher', () => {
  it('hashes the data section in file order whatever order the keys finish in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 3000 }), { minLength: 1, maxLength: 12 }), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), async (sizes, coins) => {
        const dir = tempDir()
        const dataStart = 24
        const data = Uint8Array.from({ length: sizes.reduce((s, n) => s + n, 0) }, (_, i) => (i * 131 + 7) & 0xff)
        const path = join(dir, 'out.partial')
        writeFileSync(path, Buffer.concat([Buffer.alloc(dataStart, 0x20), data]))
        let cursor = 0
        const ranges = sizes.map((n) => ({ begin: cursor, end: (cursor += n) }))
        const order = ranges.map((_, i) => i).sort(() => coins.next().value - 0.5)
        const hasher = await OutputHasher.open(path, dataStart, ranges)
        try {
          for (const index of order) {
            hasher.completed(index)
            if (coins.next().value < 0.3) await new Promise((r) => setImmediate(r))
          }
          expect(await hasher.digest()).toBe(createHash('sha256').update(data).digest('hex'))
        } finally {
          await hasher.close()
        }
      }),
      { numRuns: 30 },
    )
  })

  it('refuses to give a digest before every key is done', async () => {
    const path = join(tempDir(), 'out.partial')
    writeFileSync(path, Buffer.alloc(40))
    const hasher = await OutputHasher.open(path, 8, [
      { begin: 0, end: 16 },
      { begin: 16, end: 32 },
    ])
    hasher.completed(1)
    await expect(hasher.digest()).rejects.toThrow(/only 0 of 2 keys were hashed/)
    await hasher.close()
  })
})

describe('ChangeStats', () => {
  const special = fc.constantFrom(NaN, Infinity, -Infinity, 70000, -65520, 65519, 1e38)
  const values = fc.array(fc.oneof({ weight: 8, arbitrary: fc.float({ noNaN: true, min: -1000, max: 1000 }) }, { weight: 1, arbitrary: special }), { maxLength: 40 })

  it('sums |out − a| over finite differences and counts NaN/inf and out-of-range values, like a naive loop', () => {
    fc.assert(
      fc.property(values, values, fc.constantFrom('F16', 'F32', 'F8_E4M3'), (outValues, aValues, dtype) => {
        const n = Math.min(outValues.length, aValues.length)
        const out = Float32Array.from(outValues.slice(0, n))
        const a = Float32Array.from(aValues.slice(0, n))
        const limit = dtypeLimit(dtype)
        let sum = 0
        let nonFinite = 0
        let outOfRange = 0
        for (let i = 0; i < n; i++) {
          const d = Math.abs(out[i]! - a[i]!)
          if (Number.isFinite(d)) sum += d
          if (!Number.isFinite(out[i]!)) nonFinite++
          else if (Math.abs(out[i]!) >= limit) outOfRange++
        }
        const stats = new ChangeStats(new MemoryStream(a), dtype)
        // in two writes, as a chunked kernel would
        const half = n >> 1
        stats.add(0, out.subarray(0, half))
        stats.add(half, out.subarray(half))
        expect(stats.elements).toBe(n)
        expect(stats.nonFinite).toBe(nonFinite)
        expect(stats.outOfRange).toBe(outOfRange)
        expect(stats.sumAbs).toBeCloseTo(sum, 6)
      }),
    )
  })
})

function dtypeLimit(dtype: string): number {
  return dtype === 'F16' ? 65520 : dtype === 'F8_E4M3' ? 464 : Infinity
}

describe('FileStream', () => {
  it('returns the very same buffer when the same range is read again, and fresh values for another range', async () => {
    const dir = tempDir()
    const values = seededFloats(1000, 3)
    const input = await writeInput(join(dir, 'a.safetensors'), 'a', [{ key: 'model.diffusion_model.out.2.weight', dtype: 'F32', shape: [1000], data: values }])
    const reader = new TensorReader()
    try {
      const stream = new FileStream(reader, locatorOf(input, 'model.diffusion_model.out.2.weight'), new BufferPool())
      const first = stream.read(100, 300)
      expect([...first]).toEqual([...values.subarray(100, 300)])
      expect(stream.read(100, 300)).toBe(first)
      expect([...stream.read(0, 50)]).toEqual([...values.subarray(0, 50)])
      expect([...stream.read(100, 300)]).toEqual([...values.subarray(100, 300)])
      const all = stream.readAll()
      all.fill(0)
      expect([...stream.readAll()]).toEqual([...values])
    } finally {
      reader.close()
    }
  })
})
