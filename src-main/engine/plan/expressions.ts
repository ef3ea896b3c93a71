import { createHash } from 'node:crypto'
import type { TensorLocator } from '../formats/checkpoint'
import { dtypeSize, numelOf } from '../formats/dtype'
import { canonicalJson } from '../recipe/canonical-json'
import type { Expr, MethodExpr } from './types'
import type { KeyPosition } from '../recipe/param-values'
import { paramsForKey } from './key-params'
import type { MethodNode, ModelLeaf, TreeNode } from './recipe-tree'

/**
 * A node's expression for one key. Ids are structural: a hash of the method, its resolved
 * parameters and its inputs' ids, so identical sub-expressions share an id and the executor
 * computes them once per key. A leaf is identified by its locator (same file, same tensor, same
 * view). Seeded methods also hash their node name, because the node seeds their random stream:
 * two random nodes that look alike still draw different masks.
 */
export function buildExpr(node: MethodNode, pos: KeyPosition, locate: (leaf: ModelLeaf) => TensorLocator): MethodExpr {
  const sub = (child: TreeNode): Expr => (child.kind === 'model' ? { kind: 'tensor', locator: locate(child) } : buildExpr(child, pos, locate))
  const params = paramsForKey(node, pos)
  const inputs = node.inputs.map(sub)
  const base = node.base === null ? null : sub(node.base)
  const identity = {
    method: node.method.id,
    params,
    inputs: inputs.map(exprId),
    base: base === null ? null : exprId(base),
    node: node.method.randomness === 'seeded' ? node.where : null,
  }
  return { kind: 'method', id: hash(canonicalJson(identity)), method: node.method.id, params, inputs, base, node: node.where }
}

export function exprId(expr: Expr): string {
  return expr.kind === 'method' ? expr.id : hash(canonicalJson(expr.locator))
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

/** Every distinct method node of an expression (by id), the root included. */
export function distinctNodes(expr: MethodExpr): MethodExpr[] {
  const seen = new Map<string, MethodExpr>()
  const visit = (e: Expr): void => {
    if (e.kind !== 'method' || seen.has(e.id)) return
    seen.set(e.id, e)
    e.inputs.forEach(visit)
    if (e.base !== null) visit(e.base)
  }
  visit(expr)
  return [...seen.values()]
}

/** Every distinct leaf locator of an expression. */
export function distinctLeaves(expr: MethodExpr): TensorLocator[] {
  const seen = new Map<string, TensorLocator>()
  const visit = (e: Expr): void => {
    if (e.kind === 'tensor') seen.set(exprId(e), e.locator)
    else {
      e.inputs.forEach(visit)
      if (e.base !== null) visit(e.base)
    }
  }
  visit(expr)
  return [...seen.values()]
}

/**
 * The first `count` channels of dimension `dim` of a stored tensor, as a strided view into the same
 * bytes (inpainting: the 4 latent channels of a 9-channel first convolution).
 */
export function channelView(locator: TensorLocator, dim: number, count: number): TensorLocator {
  const strides = locator.strides ?? contiguousStrides(locator.shape)
  const shape = locator.shape.map((d, i) => (i === dim ? count : d))
  const lastElement = shape.reduce((sum, d, i) => sum + (d - 1) * strides[i]!, 0)
  const byteLength = numelOf(shape) === 0 ? 0 : (lastElement + 1) * dtypeSize(locator.dtype)
  return { ...locator, shape, strides, byteLength }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let step = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step
    step *= shape[d]!
  }
  return strides
}
