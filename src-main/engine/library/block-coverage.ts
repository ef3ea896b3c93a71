import type { BlockConventionRef } from '../../common/recipe'
import { getConvention, reportBlocks } from '../arch/blocks'
import type { Detection } from '../arch/detection-types'
import { canonicalKey } from '../arch/keys'
import { isAmalgamError } from '../errors'

export interface BlockCoverage {
  readonly convention: BlockConventionRef
  readonly blocks: number
  /** keys a block rule claims */
  readonly assigned: number
  /** keys the convention leaves out on purpose (scheduler buffers, position ids, ...), with a few examples */
  readonly skipped: { readonly count: number; readonly examples: readonly { readonly key: string; readonly reason: string }[] }
  /** keys no rule claims, and where the tool puts them (null: kept from the primary model, not merged per block) */
  readonly unmatched: { readonly count: number; readonly examples: readonly { readonly key: string; readonly fallback: string | null }[] }
}

/**
 * How a model's keys fall into the blocks of its architecture's default convention: what a per-block
 * merge of it would touch. Null when the architecture has no block convention, or names its keys in
 * a way the conventions do not use (diffusers).
 */
export function blockCoverage(detection: Detection, keys: readonly string[], examples = 3): BlockCoverage | null {
  if (detection.layout === 'diffusers') return null
  let convention
  try {
    convention = getConvention(detection.architecture, undefined, undefined, detection.depth)
  } catch (err) {
    if (isAmalgamError(err, 'BAD_ARGUMENT')) return null
    throw err
  }
  const report = reportBlocks(
    convention,
    keys.map((k) => canonicalKey(detection, k)),
  )
  return {
    convention: { name: convention.name, version: convention.version },
    blocks: convention.blockIds.length,
    assigned: Object.values(report.perBlock).reduce((sum, n) => sum + n, 0),
    skipped: { count: report.skipped.length, examples: report.skipped.slice(0, examples).map((s) => ({ key: s.key, reason: s.reason })) },
    unmatched: { count: report.unmatched.length, examples: report.unmatched.slice(0, examples).map((u) => ({ key: u.key, fallback: u.fallback })) },
  }
}
