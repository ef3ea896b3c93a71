import { createHash } from 'node:crypto'

/**
 * Seeded random numbers for the random methods (DARE, DELLA, dropout...). Each (recipe seed, key,
 * node, stream) gets its own generator, so a result depends neither on key order nor on which worker
 * ran the key. xoshiro128** is fast in 32-bit JS arithmetic and has no short cycles for our sizes.
 */
export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(seedWords: readonly [number, number, number, number]) {
    ;[this.s0, this.s1, this.s2, this.s3] = seedWords.map((w) => w >>> 0) as [number, number, number, number]
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9
  }

  /** uniform 32-bit unsigned integer */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** uniform in [0, 1) with 32 bits of resolution */
  uniform(): number {
    return this.nextU32() / 4294967296
  }

  /** standard normal (Box-Muller) */
  normal(): number {
    let u = 0
    while (u === 0) u = this.uniform()
    const v = this.uniform()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** fills `out` with 1 where a uniform draw is below `keep[i]` (or the scalar `keep`), else 0 */
  bernoulli(out: Float32Array, keep: number | Float32Array): Float32Array {
    if (typeof keep === 'number') {
      // comparing integers avoids a division per element
      const threshold = keep >= 1 ? 4294967296 : keep <= 0 ? 0 : Math.floor(keep * 4294967296)
      for (let i = 0; i < out.length; i++) out[i] = this.nextU32() < threshold ? 1 : 0
    } else {
      for (let i = 0; i < out.length; i++) out[i] = this.uniform() < keep[i]! ? 1 : 0
    }
    return out
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** A generator for one random stream of one node of one key: stable across runs, orders and threads. */
export function deriveRng(seed: number, key: string, node: string, stream: number): Rng {
  const digest = createHash('sha256').update(`amalgam-rng/1\0${seed}\0${key}\0${node}\0${stream}`).digest()
  return new Rng([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)])
}
