import type { Tf } from './backend'
import { tfSum } from '../methods/kernel-helpers'

/*
 * Order statistics of |x| for tensors streamed in blocks (TIES trim, mergekit exact-count and
 * breadcrumbs cuts, DELLA ranks). Everything here orders magnitudes by their float32 bit patterns:
 * for non-negative floats the unsigned bit pattern is order-preserving, so a radix select on the
 * bits is exact and linear. NaN magnitudes count as +Infinity (torch also sorts NaN last); -0 is 0.
 */

/**
 * One full pass over one or more sequences of equal length: calls `visit` with consecutive blocks
 * of every sequence in ascending element order; entries [0, length) of each array are the block.
 * Calling the source again makes another pass. The arrays are only valid during the call. A source
 * should hand out the same (scratch) arrays every time: the bit-pattern views made of them are
 * then made once, not per block (fresh typed-array views per block cost measurable time in V8).
 */
export type BlockSource = (visit: (blocks: readonly Float32Array[], length: number) => void) => void

/**
 * radix: streaming select on the bit patterns in JS (one windowed pass when a sample is given,
 * else two histogram passes); topk: tf.topk on the whole tensor, which a GPU backend can take.
 */
export type SelectionStrategy = 'radix' | 'topk'

/** A query for the `rank`-th smallest |x| (1-based) of sequence `sequence` of the source. */
export interface AbsRankQuery {
  readonly sequence: number
  readonly rank: number
}

export interface AbsOrderStatistic {
  /** the queried order statistic of |x| (a float32 value, +Infinity for NaN) */
  readonly value: number
  /** elements of the sequence whose |x| is strictly below `value` */
  readonly below: number
  /** elements of the sequence whose |x| equals `value` (at least 1) */
  readonly equal: number
}

export interface AbsOrderStatisticWithSum extends AbsOrderStatistic {
  /** Σ|x| over the elements strictly above `value`, in float64 (+Infinity when one is infinite or NaN) */
  readonly sumAbove: number
}

export interface AbsSelectionWithSums {
  readonly stats: readonly AbsOrderStatisticWithSum[]
  /** Σ|x| over each queried sequence (indexed by sequence; NaN for sequences not queried) */
  readonly totals: readonly number[]
}

/** tensors up to this size go to tf.topk whole; larger ones always use the streaming radix select */
const TOPK_MAX_ELEMENTS = 1 << 27

/**
 * Radix on wasm/cpu, where a streaming JS pass (a few ns per element) beats tf.topk (~35 ns per
 * element for k = 20 % on wasm, plus the upload); tf.topk on the tensorflow backends (tfjs-node,
 * tfjs-node-gpu), whose native kernels run it multi-threaded or on the GPU, as long as the tensor fits.
 */
export function defaultSelectionStrategy(tf: Tf, n: number): SelectionStrategy {
  return tf.getBackend() === 'tensorflow' && n <= TOPK_MAX_ELEMENTS ? 'topk' : 'radix'
}

export interface SelectOptions {
  /** defaults to defaultSelectionStrategy(tf, n) */
  readonly strategy?: SelectionStrategy
  /**
   * Values spread evenly over each requested sequence (a few thousand). With a sample, the radix
   * strategy brackets each order statistic by a narrow value window and finds it in one pass,
   * collecting only the window; without one (or when the window misses) it makes two histogram passes.
   */
  readonly sample?: (sequences: readonly number[]) => readonly Float32Array[]
  /** the most magnitudes a window may collect per query (memory bound); wider windows use the histogram passes */
  readonly maxCollected?: number
}

/** The `rank`-th smallest |x| per query, with tie counts. Exact with either strategy and any sample. */
export function selectAbs(
  tf: Tf,
  source: BlockSource,
  n: number,
  queries: readonly AbsRankQuery[],
  options: SelectOptions = {},
): readonly AbsOrderStatistic[] {
  return select(tf, source, n, queries, options, false).stats.map(({ value, below, equal }) => ({ value, below, equal }))
}

/** As selectAbs, plus Σ|x| above each statistic and over each sequence (for L1 rescaling). */
export function selectAbsWithSums(
  tf: Tf,
  source: BlockSource,
  n: number,
  queries: readonly AbsRankQuery[],
  options: SelectOptions = {},
): AbsSelectionWithSums {
  return select(tf, source, n, queries, options, true)
}

function select(tf: Tf, source: BlockSource, n: number, queries: readonly AbsRankQuery[], options: SelectOptions, withSums: boolean): AbsSelectionWithSums {
  for (const q of queries) {
    if (!Number.isInteger(q.rank) || q.rank < 1 || q.rank > n) throw new RangeError(`rank ${q.rank} outside 1..${n}`)
  }
  if (queries.length === 0) return { stats: [], totals: [] }
  if ((options.strategy ?? defaultSelectionStrategy(tf, n)) === 'topk') return topkSelect(tf, source, n, queries)
  if (n <= COLLECT_ALL_ELEMENTS) return windowSelect(source, n, queries, queries.map(() => FULL_WINDOW), withSums)
  if (!options.sample) return radixSelect(source, n, queries, withSums)
  const sequences = [...new Set(queries.map((q) => q.sequence))]
  const samples = options.sample(sequences)
  const windows = queries.map((q) => windowFromSample(samples[sequences.indexOf(q.sequence)]!, q.rank, n))
  if (windows.some((w) => Math.min(n, w.capacity) > (options.maxCollected ?? Infinity))) return radixSelect(source, n, queries, withSums)
  return windowSelect(source, n, queries, windows, withSums)
}

// --- bit patterns ----------------------------------------------------------------------------

const ABS_MASK = 0x7fffffff
const INF_BITS = 0x7f800000
const HIGH_SHIFT = 15
/** buckets of the top 16 bits of a canonical magnitude: 0 .. INF_BITS >>> 15 */
const HIGH_BUCKETS = (INF_BITS >>> HIGH_SHIFT) + 1
const LOW_BUCKETS = 1 << HIGH_SHIFT
const LOW_MASK = LOW_BUCKETS - 1

const bitsScratch = new Uint32Array(1)
const floatScratch = new Float32Array(bitsScratch.buffer)

/** the float32 value of a canonical magnitude bit pattern */
function magnitudeOfBits(bits: number): number {
  bitsScratch[0] = bits
  return floatScratch[0]!
}

/** |x| with NaN as +Infinity: the order key every cut and rank in this module uses */
export function magnitudeKey(x: number): number {
  const a = Math.abs(x)
  return a === a ? a : Infinity
}

const bitViews = new WeakMap<Float32Array, Uint32Array>()

/** the bit patterns of a block, as a view made once per array (see BlockSource) */
function bitsView(block: Float32Array): Uint32Array {
  let bits = bitViews.get(block)
  if (!bits) {
    bits = new Uint32Array(block.buffer, block.byteOffset, block.length)
    bitViews.set(block, bits)
  }
  return bits
}

// --- radix select ----------------------------------------------------------------------------

interface LowTarget {
  readonly bucket: number
  readonly counts: Int32Array
  readonly sums: Float64Array | null
}

function radixSelect(source: BlockSource, n: number, queries: readonly AbsRankQuery[], withSums: boolean): AbsSelectionWithSums {
  const sequenceCount = Math.max(...queries.map((q) => q.sequence)) + 1
  const high: (Int32Array | null)[] = Array.from({ length: sequenceCount }, () => null)
  const highSums: (Float64Array | null)[] = Array.from({ length: sequenceCount }, () => null)
  for (const q of queries) {
    high[q.sequence] ??= new Int32Array(HIGH_BUCKETS)
    if (withSums) highSums[q.sequence] ??= new Float64Array(HIGH_BUCKETS)
  }

  // pass 1: histogram of the top 16 bits (sign cleared) of every queried sequence
  source((blocks, length) => {
    for (let s = 0; s < sequenceCount; s++) {
      const counts = high[s]
      if (!counts) continue
      const block = blocks[s]!
      const bits = bitsView(block)
      const sums = highSums[s]
      if (sums) {
        for (let e = 0; e < length; e++) {
          let a = bits[e]! & ABS_MASK
          if (a > INF_BITS) a = INF_BITS
          const b = a >>> HIGH_SHIFT
          counts[b]!++
          sums[b]! += a === INF_BITS ? Infinity : Math.abs(block[e]!)
        }
      } else {
        for (let e = 0; e < length; e++) {
          let a = bits[e]! & ABS_MASK
          if (a > INF_BITS) a = INF_BITS
          counts[a >>> HIGH_SHIFT]!++
        }
      }
    }
  })

  // locate each query's bucket; its rank among the bucket's elements decides the low bits
  const located = queries.map((q) => {
    const counts = high[q.sequence]!
    let below = 0
    let b = 0
    while (below + counts[b]! < q.rank) below += counts[b++]!
    return { bucket: b, belowBucket: below }
  })

  // pass 2: histogram of the low 15 bits inside each located bucket (the +Infinity bucket holds one value)
  const targets: LowTarget[][] = Array.from({ length: sequenceCount }, () => [])
  const targetOf = located.map(({ bucket }, i) => {
    const list = targets[queries[i]!.sequence]!
    let t = list.find((x) => x.bucket === bucket)
    if (!t) {
      t = { bucket, counts: new Int32Array(LOW_BUCKETS), sums: withSums ? new Float64Array(LOW_BUCKETS) : null }
      if (bucket !== HIGH_BUCKETS - 1) list.push(t)
      else t.counts[0] = high[queries[i]!.sequence]![bucket]!
    }
    return t
  })
  if (targets.some((list) => list.length > 0)) {
    source((blocks, length) => {
      for (let s = 0; s < sequenceCount; s++) {
        const list = targets[s]!
        if (list.length === 0) continue
        const block = blocks[s]!
        const bits = bitsView(block)
        if (list.length === 1 && !withSums) {
          const { bucket, counts } = list[0]!
          for (let e = 0; e < length; e++) {
            const a = bits[e]! & ABS_MASK
            if (a >>> HIGH_SHIFT === bucket) counts[a & LOW_MASK]!++
          }
          continue
        }
        for (let e = 0; e < length; e++) {
          const a = bits[e]! & ABS_MASK
          const b = a >>> HIGH_SHIFT
          for (const t of list) {
            if (t.bucket !== b) continue
            t.counts[a & LOW_MASK]!++
            if (t.sums) t.sums[a & LOW_MASK]! += Math.abs(block[e]!)
            break
          }
        }
      }
    })
  }

  const stats = queries.map((q, i): AbsOrderStatisticWithSum => {
    const { bucket, belowBucket } = located[i]!
    const t = targetOf[i]!
    let below = belowBucket
    let low = 0
    while (below + t.counts[low]! < q.rank) below += t.counts[low++]!
    let sumAbove = NaN
    if (withSums) {
      sumAbove = 0
      const hs = highSums[q.sequence]!
      for (let b = bucket + 1; b < HIGH_BUCKETS; b++) sumAbove += hs[b]!
      if (t.sums) for (let l = low + 1; l < LOW_BUCKETS; l++) sumAbove += t.sums[l]!
    }
    return { value: magnitudeOfBits((bucket << HIGH_SHIFT) | low), below, equal: t.counts[low]!, sumAbove }
  })
  const totals = Array.from({ length: sequenceCount }, (_, s) => {
    const hs = highSums[s]
    return hs ? hs.reduce((acc, v) => acc + v, 0) : NaN
  })
  return { stats, totals }
}

// --- sample-guided window select ----------------------------------------------------------

/** tensors up to this size are selected from an in-memory copy of all their magnitudes (one pass) */
const COLLECT_ALL_ELEMENTS = 1 << 16
/** collections up to this size are sorted rather than histogrammed */
const SORT_ELEMENTS = 4096

/**
 * Canonical magnitude bits in [lo, hi] are collected, at most `capacity` of them. An open upper
 * end is hi = ABS_MASK, above every NaN pattern, so the hot loop needs no NaN canonicalisation:
 * NaN patterns are collected raw (and canonicalised before selecting) or lie above a bounded hi.
 */
interface ValueWindow {
  readonly lo: number
  readonly hi: number
  readonly capacity: number
}

const FULL_WINDOW: ValueWindow = { lo: 0, hi: ABS_MASK, capacity: Infinity }

/**
 * A window around the sample quantile of the queried rank, wide enough (12 binomial standard
 * deviations of the sample, whose values come in correlated runs) that the order statistic
 * almost always falls inside; when it does not, the caller falls back to the histogram passes.
 */
function windowFromSample(sample: Float32Array, rank: number, n: number): ValueWindow {
  const size = sample.length
  if (size === 0) return FULL_WINDOW
  const sorted = new Uint32Array(size)
  magnitudeBitsOf(sample, 0, size, sorted)
  sorted.sort()
  const q = (rank - 0.5) / n
  const margin = 12 * Math.sqrt(size * Math.max(q * (1 - q), 1 / size)) + 16
  const loIndex = Math.floor(q * size - margin)
  const hiIndex = Math.ceil(q * size + margin)
  const share = (Math.min(hiIndex, size) - Math.max(loIndex, 0) + 1) / size
  return {
    lo: loIndex <= 0 ? 0 : sorted[loIndex]!,
    hi: hiIndex >= size - 1 ? ABS_MASK : sorted[hiIndex]!,
    capacity: Math.ceil(share * n * 1.5) + 4096,
  }
}

interface WindowCollection {
  readonly lo: number
  readonly hi: number
  readonly values: Uint32Array
  filled: number
  below: number
  /** Σ|x| above hi */
  sumAbove: number
  overflow: boolean
}

/** One pass: per query, counts the elements below its window and collects those inside; exact answers from the collection. */
function windowSelect(
  source: BlockSource,
  n: number,
  queries: readonly AbsRankQuery[],
  windows: readonly ValueWindow[],
  withSums: boolean,
): AbsSelectionWithSums {
  const collections = windows.map(
    (w): WindowCollection => ({ lo: w.lo, hi: w.hi, values: new Uint32Array(Math.min(n, w.capacity)), filled: 0, below: 0, sumAbove: 0, overflow: false }),
  )
  const sequenceCount = Math.max(...queries.map((q) => q.sequence)) + 1
  const totals = Array.from({ length: sequenceCount }, () => NaN)
  if (withSums) for (const q of queries) totals[q.sequence] = 0
  source((blocks, length) => {
    queries.forEach((q, i) => {
      const c = collections[i]!
      if (!c.overflow) collectWindow(c, blocks[q.sequence]!, length, withSums)
    })
    if (withSums) {
      for (let s = 0; s < sequenceCount; s++) if (!Number.isNaN(totals[s]!)) totals[s] = totals[s]! + sumOfMagnitudes(blocks[s]!, length)
    }
  })
  const stats: AbsOrderStatisticWithSum[] = new Array<AbsOrderStatisticWithSum>(queries.length)
  const missed: number[] = []
  queries.forEach((q, i) => {
    const c = collections[i]!
    const inner = q.rank - c.below
    if (c.overflow || inner < 1 || inner > c.filled) return missed.push(i)
    const found = selectCollected(c.values, c.filled, inner, withSums)
    stats[i] = { value: found.value, below: c.below + found.below, equal: found.equal, sumAbove: c.sumAbove + found.sumAbove }
  })
  if (missed.length > 0) {
    const retry = radixSelect(source, n, missed.map((i) => queries[i]!), withSums)
    missed.forEach((i, j) => (stats[i] = retry.stats[j]!))
  }
  return { stats, totals }
}

function collectWindow(c: WindowCollection, block: Float32Array, length: number, withSums: boolean): void {
  const bits = bitsView(block)
  const { lo, hi, values } = c
  let filled = c.filled
  let below = c.below
  if (withSums) {
    let above = 0
    for (let e = 0; e < length; e++) {
      let a = bits[e]! & ABS_MASK
      if (a > INF_BITS) a = INF_BITS
      if (a < lo) below++
      else if (a > hi) above += a === INF_BITS ? Infinity : Math.abs(block[e]!)
      else if (filled < values.length) values[filled++] = a
      else c.overflow = true
    }
    c.sumAbove += above
  } else if (filled + length <= values.length) {
    // branch-free: the comparisons are unpredictable, and the store may always go one slot ahead
    for (let e = 0; e < length; e++) {
      const a = bits[e]! & ABS_MASK
      const isBelow = (a - lo) >>> 31
      below += isBelow
      values[filled] = a
      filled += (isBelow ^ 1) & (((hi - a) >>> 31) ^ 1)
    }
  } else {
    for (let e = 0; e < length; e++) {
      let a = bits[e]! & ABS_MASK
      if (a > INF_BITS) a = INF_BITS
      if (a < lo) below++
      else if (a > hi) continue
      else if (filled < values.length) values[filled++] = a
      else c.overflow = true
    }
  }
  c.filled = filled
  c.below = below
}

function sumOfMagnitudes(block: Float32Array, length: number): number {
  let total = 0
  for (let e = 0; e < length; e++) total += magnitudeKey(block[e]!)
  return total
}

/** the rank-th smallest of `count` collected magnitude bit patterns (modified in place) */
function selectCollected(values: Uint32Array, count: number, rank: number, withSums: boolean): AbsOrderStatisticWithSum {
  for (let i = 0; i < count; i++) if (values[i]! > INF_BITS) values[i] = INF_BITS
  if (count > SORT_ELEMENTS) {
    const view = new Float32Array(values.buffer, 0, count)
    return radixSelect((visit) => visit([view], count), count, [{ sequence: 0, rank }], withSums).stats[0]!
  }
  const sorted = values.subarray(0, count).sort()
  const bits = sorted[rank - 1]!
  let first = rank - 1
  while (first > 0 && sorted[first - 1] === bits) first--
  let end = rank
  while (end < count && sorted[end] === bits) end++
  let sumAbove = withSums ? 0 : NaN
  if (withSums) for (let j = end; j < count; j++) sumAbove += magnitudeOfBits(sorted[j]!)
  return { value: magnitudeOfBits(bits), below: first, equal: end - first, sumAbove }
}

// --- tf.topk ---------------------------------------------------------------------------------

function topkSelect(tf: Tf, source: BlockSource, n: number, queries: readonly AbsRankQuery[]): AbsSelectionWithSums {
  const sequenceCount = Math.max(...queries.map((q) => q.sequence)) + 1
  const magnitudes: (Float32Array | null)[] = Array.from({ length: sequenceCount }, () => null)
  for (const q of queries) magnitudes[q.sequence] ??= new Float32Array(n)
  let offset = 0
  source((blocks, length) => {
    for (let s = 0; s < sequenceCount; s++) {
      const out = magnitudes[s]
      if (!out) continue
      const block = blocks[s]!
      for (let e = 0; e < length; e++) out[offset + e] = magnitudeKey(block[e]!)
    }
    offset += length
  })
  const stats: AbsOrderStatisticWithSum[] = new Array<AbsOrderStatisticWithSum>(queries.length)
  const totals = magnitudes.map((m, s) => {
    if (!m) return NaN
    return tf.tidy(() => {
      const x = tf.tensor1d(m)
      const count = (mask: ReturnType<typeof tf.less>): number => tf.sum(tf.cast(mask, 'int32')).dataSync()[0]!
      queries.forEach((q, i) => {
        if (q.sequence !== s) return
        // the rank-th smallest is the (n - rank + 1)-th largest: ask topk for the shorter side
        // (0 − v, not −v: a zero magnitude must come back as +0)
        const fromTop = n - q.rank + 1
        const value =
          fromTop <= q.rank
            ? tf.slice(tf.topk(x, fromTop).values, fromTop - 1, 1).dataSync()[0]!
            : 0 - tf.slice(tf.topk(tf.neg(x), q.rank).values, q.rank - 1, 1).dataSync()[0]!
        const v = tf.scalar(value)
        stats[i] = {
          value,
          below: count(tf.less(x, v)),
          equal: count(tf.equal(x, v)),
          sumAbove: tfSum(tf, tf.where(tf.greater(x, v), x, tf.zerosLike(x))).dataSync()[0]!,
        }
      })
      return tfSum(tf, x).dataSync()[0]!
    })
  })
  return { stats, totals }
}

// --- cuts in the descending magnitude order ----------------------------------------------------

/**
 * The boundary after the `count` largest magnitudes, in the total order "larger |x| first, and
 * among equal |x| the lower flat index first" (mergekit's exact-count rule with ties decided).
 * An element is above the cut when its key exceeds `value`, or equals it and fewer than `ties`
 * equal elements came before it in flat order.
 */
export interface DescendingCut {
  readonly value: number
  readonly ties: number
}

/** a cut above every element (keeps nothing) */
export const CUT_NONE: DescendingCut = { value: Infinity, ties: 0 }
/** a cut below every element (keeps everything, NaN included) */
export const CUT_ALL: DescendingCut = { value: -1, ties: 0 }

/** The ascending rank (1-based) whose order statistic defines the cut after the `count` largest. */
export function cutRank(count: number, n: number): number | null {
  return count <= 0 || count >= n ? null : n - count + 1
}

/** Builds the cut after the `count` largest from the order statistic at cutRank(count, n). */
export function cutFromStatistic(count: number, n: number, stat: AbsOrderStatistic | null): DescendingCut {
  if (count <= 0) return CUT_NONE
  if (count >= n || !stat) return CUT_ALL
  const strictlyAbove = n - stat.below - stat.equal
  return { value: stat.value, ties: count - strictlyAbove }
}

/** Flat-order membership test for one cut; `next` must be called once per element, in flat order. */
export class CutCursor {
  private seenTies = 0
  constructor(private readonly cut: DescendingCut) {}
  next(key: number): boolean {
    // ties are rare, so this branch predicts well; the comparison itself stays a value, not a branch
    if (key === this.cut.value) return this.seenTies++ < this.cut.ties
    return key > this.cut.value
  }
}

// --- ranks ----------------------------------------------------------------------------------

const DIGITS = [
  [0, 11],
  [11, 11],
  [22, 9],
] as const
const digitHistogram = new Uint32Array(1 << 11)

/**
 * Orders `count` magnitude bit patterns ascending, ties kept in input order (a stable LSD radix
 * sort over 3 digits of 11/11/9 bits, skipping digits on which all keys agree; insertion sort for
 * short inputs). Writes the input positions in sorted order to `order`; `bits` is not modified.
 * `scratch` holds 4 arrays of at least `count` entries.
 */
export function orderByMagnitudeBits(
  bits: Uint32Array,
  count: number,
  order: Uint32Array,
  scratch: readonly [Uint32Array, Uint32Array, Uint32Array, Uint32Array],
): void {
  if (count < 64) return insertionOrder(bits, count, order)
  const [keysA, positionsA, keysB, positionsB] = scratch
  let keys = bits
  let positions: Uint32Array | null = null // null: identity, no pass has moved anything yet
  for (const [shift, width] of DIGITS) {
    const mask = (1 << width) - 1
    const histogram = digitHistogram.subarray(0, 1 << width).fill(0)
    for (let i = 0; i < count; i++) histogram[(keys[i]! >>> shift) & mask]!++
    if (histogram.includes(count)) continue
    let sum = 0
    for (let d = 0; d <= mask; d++) {
      const c = histogram[d]!
      histogram[d] = sum
      sum += c
    }
    const toKeys = keys === keysA ? keysB : keysA
    const toPositions: Uint32Array = positions === positionsA ? positionsB : positionsA
    for (let i = 0; i < count; i++) {
      const k = keys[i]!
      const to = histogram[(k >>> shift) & mask]!++
      toKeys[to] = k
      toPositions[to] = positions ? positions[i]! : i
    }
    keys = toKeys
    positions = toPositions
  }
  if (positions) order.set(positions.subarray(0, count))
  else for (let i = 0; i < count; i++) order[i] = i
}

function insertionOrder(bits: Uint32Array, count: number, order: Uint32Array): void {
  for (let i = 0; i < count; i++) {
    const k = bits[i]!
    let j = i
    while (j > 0 && bits[order[j - 1]!]! > k) {
      order[j] = order[j - 1]!
      j--
    }
    order[j] = i
  }
}

/** Copies the canonical magnitude bit patterns of values[start, start + length) into out[0, length). */
export function magnitudeBitsOf(values: Float32Array, start: number, length: number, out: Uint32Array): void {
  const bits = bitsView(values)
  for (let e = 0; e < length; e++) {
    const a = bits[start + e]! & ABS_MASK
    out[e] = a > INF_BITS ? INF_BITS : a
  }
}

/**
 * Visits every element of one sequence (block index 0 of `source`) once in ascending |x| order,
 * ties in flat order (scipy's "ordinal" ranks): `visit(indices, firstRank)` receives flat indices
 * whose ranks are firstRank, firstRank + 1, ... Memory is bounded by `maxBatch` elements: larger
 * tensors are cut into value ranges of at most `maxBatch` elements, one pass each, after one
 * histogram pass (and one more when a single histogram bucket holds more than `maxBatch`).
 */
export function visitInMagnitudeOrder(source: BlockSource, n: number, maxBatch: number, visit: (indices: Uint32Array, firstRank: number) => void): void {
  if (n === 0) return
  const batch = Math.max(1, Math.min(maxBatch, n))
  const ranges = n <= batch ? [{ lo: 0, hi: INF_BITS, count: n, single: false }] : planRanges(source, batch)
  const keys = new Uint32Array(batch)
  const positions = new Uint32Array(batch)
  const order = new Uint32Array(batch)
  const scratch = [new Uint32Array(batch), new Uint32Array(batch), new Uint32Array(batch), new Uint32Array(batch)] as const
  let firstRank = 1
  for (const range of ranges) {
    let filled = 0
    let offset = 0
    source(([block], length) => {
      const bits = bitsView(block!)
      for (let e = 0; e < length; e++) {
        let a = bits[e]! & ABS_MASK
        if (a > INF_BITS) a = INF_BITS
        if (a < range.lo || a > range.hi) continue
        keys[filled] = a
        positions[filled++] = offset + e
        if (range.single && filled === batch) {
          // one repeated value: flat order is rank order, hand it over as it comes
          visit(positions, firstRank)
          firstRank += filled
          filled = 0
        }
      }
      offset += length
    })
    if (range.single) {
      if (filled > 0) visit(positions.subarray(0, filled), firstRank)
    } else {
      orderByMagnitudeBits(keys, filled, order, scratch)
      for (let i = 0; i < filled; i++) order[i] = positions[order[i]!]!
      visit(order.subarray(0, filled), firstRank)
    }
    firstRank += filled
  }
}

interface ValueRange {
  readonly lo: number
  readonly hi: number
  readonly count: number
  /** lo === hi: every element in range has the same magnitude */
  readonly single: boolean
}

/** Splits the bit-pattern line into ascending ranges of at most `batch` elements (or one repeated value). */
function planRanges(source: BlockSource, batch: number): ValueRange[] {
  const high = new Uint32Array(HIGH_BUCKETS)
  source(([block], length) => {
    const bits = bitsView(block!)
    for (let e = 0; e < length; e++) {
      let a = bits[e]! & ABS_MASK
      if (a > INF_BITS) a = INF_BITS
      high[a >>> HIGH_SHIFT]!++
    }
  })
  const big = new Map<number, Uint32Array>()
  for (let b = 0; b < HIGH_BUCKETS; b++) if (high[b]! > batch) big.set(b, new Uint32Array(LOW_BUCKETS))
  if (big.size > 0) {
    source(([block], length) => {
      const bits = bitsView(block!)
      for (let e = 0; e < length; e++) {
        let a = bits[e]! & ABS_MASK
        if (a > INF_BITS) a = INF_BITS
        const low = big.get(a >>> HIGH_SHIFT)
        if (low) low[a & LOW_MASK]!++
      }
    })
  }
  const ranges: ValueRange[] = []
  let lo = -1
  let hi = -1
  let count = 0
  const add = (from: number, to: number, c: number): void => {
    if (c === 0) return
    if (count > 0 && count + c > batch) {
      ranges.push({ lo, hi, count, single: lo === hi })
      count = 0
    }
    if (count === 0) lo = from
    hi = to
    count += c
  }
  for (let b = 0; b < HIGH_BUCKETS; b++) {
    const low = big.get(b)
    if (!low) {
      add(b << HIGH_SHIFT, (b << HIGH_SHIFT) | LOW_MASK, high[b]!)
      continue
    }
    for (let l = 0; l < LOW_BUCKETS; l++) {
      const v = (b << HIGH_SHIFT) | l
      const c = low[l]!
      if (c > batch) {
        if (count > 0) ranges.push({ lo, hi, count, single: lo === hi })
        ranges.push({ lo: v, hi: v, count: c, single: true })
        count = 0
      } else add(v, v, c)
    }
  }
  if (count > 0) ranges.push({ lo, hi, count, single: lo === hi })
  return ranges
}
