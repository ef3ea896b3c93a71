import { createHash } from 'node:crypto'
import type { TensorLocator } from '../formats/checkpoint'
import { dtypeSize, numelOf } from '../formats/dtype'
import { canonicalJson } from '../recipe/canonical-json'
import type { Expr, LoraExpr, LoraPatch, MethodExpr } from './types'
import type { KeyPosition } from '../recipe/param-values'
import { paramsForKey } from './key-params'
import type { LoraTreeNode, MethodNode, ModelLeaf, TreeNode } from './recipe-tree'

/** The LoRA deltas a LoRA node adds to one key (none: the node passes its model's tensor through). */
export type LoraPatchesOf = (node: LoraTreeNode, key: string) => readonly LoraPatch[]

/**
 * A node's expression for one key. Ids are structural: a hash of the method, its resolved
 * parameters and its inputs' ids, so identical sub-expressions share an id and the executor
 * computes them once per key. A leaf is identified by its locator (same file, same tensor, same
 * view). Seeded methods also hash their node name, because the node seeds their random stream:
 * two random nodes that look alike still draw different masks.
 */
export function buildExpr(node: MethodNode, pos: KeyPosition, locate: (leaf: ModelLeaf) => TensorLocator, patchesOf: LoraPatchesOf): MethodExpr {
  const sub = (child: TreeNode): Expr => subExpr(child, pos, locate, patchesOf)
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

function subExpr(child: TreeNode, pos: KeyPosition, locate: (leaf: ModelLeaf) => TensorLocator, patchesOf: LoraPatchesOf): Expr {
  if (child.kind === 'model') return { kind: 'tensor', locator: locate(child) }
  if (child.kind === 'node') return buildExpr(child, pos, locate, patchesOf)
  const model = subExpr(child.model, pos, locate, patchesOf)
  const patches = patchesOf(child, pos.key)
  if (patches.length === 0) return model
  const lora: Omit<LoraExpr, 'id'> = { kind: 'lora', model, patches, node: child.where }
  return { ...lora, id: hash(canonicalJson({ lora: exprId(model), patches })) }
}

export function exprId(expr: Expr): string {
  return expr.kind === 'tensor' ? hash(canonicalJson(expr.locator)) : expr.id
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

/** Every distinct method node of an expression (by id), the root included. */
export function distinctNodes(expr: MethodExpr): MethodExpr[] {
  const seen = new Map<string, MethodExpr>()
  const visit = (e: Expr): void => {
    if (e.kind === 'lora') return visit(e.model)
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
    else if (e.kind === 'lora') {
      visit(e.model)
      for (const patch of e.patches) for (const locator of factorLocators(patch)) seen.set(hash(canonicalJson(locator)), locator)
    } else {
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

function factorLocators({ factors }: LoraPatch): TensorLocator[] {
  switch (factors.type) {
    case 'lora':
      return [factors.up, factors.down]
    case 'loha':
      return [factors.w1a, factors.w1b, factors.w2a, factors.w2b]
    case 'lokr':
      return [factors.w1, factors.w2].flatMap((f) => ('whole' in f ? [f.whole] : [f.a, f.b]))
  }
}
