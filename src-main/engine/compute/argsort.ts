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
  let keys = new Uint32Array(n)
  let order = new Uint32Array(n)
  const bits = new Uint32Array(values.buffer, values.byteOffset, n)
  // the digit histograms do not depend on the order: all of them in one pass over the keys
  const counts = new Uint32Array(BUCKETS * DIGITS)
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    const b = bits[i]!
    // flip negatives entirely and set the sign bit of positives: unsigned order = numeric order
    const key = v !== v ? 0xffffffff : v === 0 ? 0x80000000 : b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0
    keys[i] = key
    order[i] = i
    for (let d = 0; d < DIGITS; d++) counts[d * BUCKETS + ((key >>> (d * DIGIT_BITS)) & (BUCKETS - 1))]!++
  }
  let nextKeys = new Uint32Array(n)
  let nextOrder = new Uint32Array(n)
  for (let d = 0; d < DIGITS; d++) {
    const shift = d * DIGIT_BITS
    const offsets = counts.subarray(d * BUCKETS, (d + 1) * BUCKETS)
    // skip a digit on which every key agrees: the pass would not move anything
    if (offsets.some((c) => c === n)) continue
    let total = 0
    for (let b = 0; b < BUCKETS; b++) {
      const c = offsets[b]!
      offsets[b] = total
      total += c
    }
    // keys travel with their positions, so every read is sequential (only the writes scatter)
    for (let i = 0; i < n; i++) {
      const key = keys[i]!
      const at = offsets[(key >>> shift) & (BUCKETS - 1)]!++
      nextKeys[at] = key
      nextOrder[at] = order[i]!
    }
    ;[keys, nextKeys] = [nextKeys, keys]
    ;[order, nextOrder] = [nextOrder, order]
  }
  return order
}
