import type { NumberValue, ParamValue, StructuredNumber } from '../../common/recipe'
import { AmalgamError } from '../errors'

/** Where in the model a key sits, as far as parameters care. */
export interface KeyPosition {
  readonly key: string
  /** block id in the recipe's convention; null for keys that map to no block */
  readonly block: string | null
  /** the block's position in [0, 1] for gradients (mergekit's rule); null when the key has no block */
  readonly t: number | null
}

/**
 * mergekit's gradient rule: m anchors spread evenly over [0, 1], linearly interpolated
 * (identical to np.interp(t, linspace(0, 1, m), anchors)).
 */
export function interpolateGradient(anchors: readonly number[], t: number): number {
  const m = anchors.length
  if (m === 1) return anchors[0]!
  const s = Math.min(Math.max(t, 0), 1) * (m - 1)
  const i0 = Math.floor(s)
  const i1 = Math.min(m - 1, i0 + 1)
  const f = s - i0
  return (1 - f) * anchors[i0]! + f * anchors[i1]!
}

/** Compiled per-key regex rules, so a parameter's patterns are compiled once per plan, not per key. */
const regexCache = new Map<string, RegExp>()
function compile(pattern: string, where: string): RegExp {
  let re = regexCache.get(pattern)
  if (!re) {
    try {
      re = new RegExp(pattern)
    } catch (err) {
      throw new AmalgamError('BAD_RECIPE', `${where}: invalid regular expression ${JSON.stringify(pattern)} (${(err as Error).message})`)
    }
    regexCache.set(pattern, re)
  }
  return re
}

/**
 * The value of a numeric parameter for one key. Precedence: key regex > block > gradient > value;
 * undefined means "the method's default".
 */
export function resolveNumber(value: NumberValue, pos: KeyPosition, where: string): number | undefined {
  if (typeof value === 'number') return value
  return resolveStructured(value, pos, where)
}

function resolveStructured(value: StructuredNumber, pos: KeyPosition, where: string): number | undefined {
  if (value.keys) {
    for (const [i, rule] of value.keys.entries()) {
      if (compile(rule.pattern, `${where}.keys[${i}].pattern`).test(pos.key)) return rule.value
    }
  }
  if (value.blocks && pos.block !== null) {
    const v = value.blocks[pos.block]
    if (v !== undefined) return v
  }
  if (value.gradient && pos.t !== null) return interpolateGradient(value.gradient, pos.t)
  return value.value
}

export function isStructured(value: ParamValue): value is StructuredNumber {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks a structured value against the block convention before anything runs: unknown block ids,
 * bad regexes, and variation on parameters that may not vary are refused with the parameter's path.
 */
export function checkStructured(
  value: StructuredNumber,
  opts: { where: string; blockIds: readonly string[]; convention: string; architecture: string; perBlock: boolean },
): void {
  const varies = value.blocks !== undefined || value.gradient !== undefined || value.keys !== undefined
  if (varies && !opts.perBlock) throw new AmalgamError('BAD_RECIPE', `${opts.where}: this parameter cannot vary per block, layer or key`)
  for (const block of Object.keys(value.blocks ?? {})) {
    if (!opts.blockIds.includes(block)) {
      throw new AmalgamError(
        'BAD_RECIPE',
        `${opts.where}.blocks.${block}: no such block for ${opts.architecture} in the ${opts.convention} convention (blocks: ${abbreviate(opts.blockIds)})`,
      )
    }
  }
  for (const [i, rule] of (value.keys ?? []).entries()) compile(rule.pattern, `${opts.where}.keys[${i}].pattern`)
}

function abbreviate(ids: readonly string[]): string {
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 4).join(', ')}, ..., ${ids.slice(-2).join(', ')}`
}
