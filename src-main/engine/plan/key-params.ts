import type { ParamValue } from '../../common/recipe'
import { AmalgamError, isAmalgamError } from '../errors'
import { completeParams, type ScalarParam } from '../methods/params'
import type { ResolvedParams } from '../methods/types'
import { checkStructured, resolveNumber, type KeyPosition } from '../recipe/param-values'
import { structuredParams, type MethodNode } from './recipe-tree'

/** The block convention as far as parameters care; null for architectures without one. */
export interface BlockSpace {
  readonly name: string
  readonly version: string
  readonly architecture: string
  readonly blockIds: readonly string[]
}

/**
 * Checks every per-block, gradient and per-key value of the tree against the block convention:
 * unknown block ids ("merge.params.alpha.blocks.IN12: no such block for sdxl ..."), bad regexes,
 * and variation on parameters that cannot vary.
 */
export function checkParamBlocks(tree: MethodNode, space: BlockSpace | null, architecture: string): void {
  for (const { where, value, perBlock } of structuredParams(tree)) {
    if (space === null) {
      if (value.gradient !== undefined) throw new AmalgamError('BAD_RECIPE', `${where}.gradient: ${architecture} models have no block convention to spread a gradient over`)
      if (value.blocks !== undefined) throw new AmalgamError('BAD_RECIPE', `${where}.blocks: ${architecture} models have no block convention; use per-key rules (keys) instead`)
    }
    checkStructured(value, {
      where,
      blockIds: space?.blockIds ?? [],
      convention: space === null ? 'none' : `${space.name} ${space.version}`,
      architecture,
      perBlock,
    })
  }
}

/**
 * One node's parameters for one key: per-block, gradient and regex values resolved (key regex >
 * block > gradient > global value > default), then completed and checked against the method.
 */
export function paramsForKey(node: MethodNode, pos: KeyPosition): ResolvedParams {
  const where = `${node.where}.params`
  const given: Record<string, ScalarParam> = {}
  for (const [name, value] of Object.entries(node.params)) {
    const scalar = scalarFor(value, pos, `${where}.${name}`)
    if (scalar !== undefined) given[name] = scalar
  }
  try {
    return completeParams({ method: node.method, fixedParams: {} }, given, node.inputs.length, where)
  } catch (err) {
    if (isAmalgamError(err)) throw new AmalgamError(err.code, `${err.message} (key ${pos.key}${pos.block === null ? '' : `, block ${pos.block}`})`)
    throw err
  }
}

function scalarFor(value: ParamValue, pos: KeyPosition, where: string): ScalarParam | undefined {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value
  if (!Array.isArray(value)) return resolveNumber(value, pos, where)
  return value.map((v, i) => {
    const n = resolveNumber(v, pos, `${where}[${i}]`)
    if (n === undefined) throw new AmalgamError('BAD_RECIPE', `${where}[${i}]: no value for key ${pos.key} (give a global value)`)
    return n
  })
}
