import type { CostClass } from '../../common/method-info'
import { DEFAULT_CHUNK_ELEMENTS } from '../execute/kernel-context'
import { numelOf } from '../formats/dtype'
import { resolveMethod } from '../methods/registry'
import { distinctNodes } from './expressions'
import type { PlannedKey } from './plan-keys'
import type { MethodExpr } from './types'

/*
 * A deliberately simple cost model, documented in docs/RECIPES.md ("Pre-flight estimates"):
 * - time = hashing the inputs + reading what the keys need (twice for a node with a statistics pass)
 *   + writing the output + computing, where
 *   computing is elements × a per-element cost of the method's most expensive cost class, spread over
 *   the threads. The constants are this project's measurements on a 2-core machine
 *   (PERFORMANCE.md), rounded towards slow: an estimate, not a promise.
 * - peak memory = the largest working set of any key × threads. A key's working set: its top node
 *   holds memoryFactor float32 copies of a chunk (chunked methods) or of the whole tensor; every
 *   nested node's result is held whole; a channel-sliced key also holds a's full tensor.
 */

const HASH_BYTES_PER_SECOND = 400e6
const READ_BYTES_PER_SECOND = 400e6
const WRITE_BYTES_PER_SECOND = 1e9
const COPY_PIECE_BYTES = 16 << 20

/** nanoseconds per element, per cost class (METHODS.md §1.10) */
const NS_PER_ELEMENT: Readonly<Record<CostClass, number>> = { E: 6, R: 10, G: 10, S: 80, F: 60, W: 100, L: 300, I: 400 }

export interface Estimates {
  readonly peakBytes: number
  readonly seconds: number
}

export function estimate(keys: readonly PlannedKey[], opts: { inputBytesToHash: number; outputBytes: number; threads: number }): Estimates {
  let peak = 0
  let computeNs = 0
  let readBytes = 0
  for (const key of keys) {
    readBytes += key.inputBytes
    const action = key.action
    if (action.kind !== 'merge') {
      peak = Math.max(peak, Math.min(COPY_PIECE_BYTES, key.inputBytes) * 2)
      continue
    }
    const numel = action.slice === null ? numelOf(key.shape) : numelOf(key.shape.map((d, i) => (i === action.slice!.dim ? action.slice!.count : d)))
    peak = Math.max(peak, workingSet(action.expr, numel) + (action.slice === null ? 0 : numelOf(key.shape) * 4))
    for (const node of distinctNodes(action.expr)) {
      computeNs += numel * nsPerElement(node.method)
      // a statistics pass (cost class G) reads the key and computes the node once more before merging
      if (resolveMethod(node.method).method.statistics !== undefined) {
        readBytes += key.inputBytes
        computeNs += numel * nsPerElement(node.method)
      }
    }
  }
  const threads = Math.max(1, opts.threads)
  const seconds = opts.inputBytesToHash / HASH_BYTES_PER_SECOND + readBytes / READ_BYTES_PER_SECOND + opts.outputBytes / WRITE_BYTES_PER_SECOND + computeNs / 1e9 / threads
  return { peakBytes: peak * threads, seconds }
}

function workingSet(expr: MethodExpr, numel: number): number {
  const nodes = distinctNodes(expr)
  const held = (nodes.length - 1) * numel * 4
  const working = Math.max(...nodes.map((node) => {
    const { method } = resolveMethod(node.method)
    return (method.chunked ? Math.min(numel, DEFAULT_CHUNK_ELEMENTS) : numel) * 4 * method.memoryFactor
  }))
  return held + working
}

function nsPerElement(methodId: string): number {
  const { method } = resolveMethod(methodId)
  return Math.max(...method.cost.map((c) => NS_PER_ELEMENT[c]))
}
