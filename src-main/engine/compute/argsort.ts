/*
 * Stable ascending argsort of float32 values by an LSD radix sort on order-preserving keys: linear
 * time, where Array.prototype.sort with a comparator takes seconds on tensors of millions of values.
 */

const DIGIT_BITS = 11
const DIGITS = 3
const BUCKETS = 1 << DIGIT_BITS

/**
 * Positions of `values` in ascending order; equal values keep their flat order, −0 equals +0,
 * NaN sorts after +Infinity (as torch and numpy sort it).
 */
export function stableArgsort(values: Float32Array): Uint32Array {
  const n = values.length
  const keys = new Uint32Array(n)
  const bits = new Uint32Array(values.buffer, values.byteOffset, n)
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    const b = bits[i]!
    // flip negatives entirely and set the sign bit of positives: unsigned order = numeric order
    keys[i] = v !== v ? 0xffffffff : v === 0 ? 0x80000000 : b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0
  }
  let order = Uint32Array.from({ length: n }, (_, i) => i)
  let next = new Uint32Array(n)
  const counts = new Uint32Array(BUCKETS)
  for (let d = 0; d < DIGITS; d++) {
    const shift = d * DIGIT_BITS
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(keys[order[i]!]! >>> shift) & (BUCKETS - 1)]!++
    // skip a digit on which every key agrees: the pass would not move anything
    if (counts.some((c) => c === n)) continue
    let total = 0
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[b]!
      counts[b] = total
      total += c
    }
    for (let i = 0; i < n; i++) {
      const position = order[i]!
      next[counts[(keys[position]! >>> shift) & (BUCKETS - 1)]!++] = position
    }
    const swap = order
    order = next
    next = swap
  }
  return order
}
