import { resolve } from 'node:path'
import {
  isLoraNode,
  isModelInput,
  type Input,
  type LoraBlockWeights,
  type LoraNode,
  type MergeNode,
  type NumberValue,
  type ParamValue,
  type StructuredNumber,
} from '../../common/recipe'
import { AmalgamError, isAmalgamError } from '../errors'
import { completeParams, type ScalarParam } from '../methods/params'
import { resolveMethod, type ResolvedMethod } from '../methods/registry'
import type { MethodDeclaration } from '../methods/types'

/*
 * The recipe's merge tree, checked and canonicalised before any file is opened: method names
 * resolved to family ids (an alias's fixed parameters written out), input counts and bases checked
 * against the method, every parameter checked against its declaration and method defaults written
 * out, model paths made absolute. Block ids and regexes are checked later, once the architecture
 * (and so the block convention) is known: checkParamBlocks.
 */

export interface ModelLeaf {
  readonly kind: 'model'
  /** recipe path of the input: "merge.inputs[1]" */
  readonly where: string
  /** "a", "b", "base"; nested: "b.a" */
  readonly role: string
  /** absolute */
  readonly path: string
  readonly input: { readonly sha256?: string; readonly size?: number }
}

export interface MethodNode {
  readonly kind: 'node'
  /** recipe path of the node: "merge", "merge.inputs[1]"; also the node name seeds derive from */
  readonly where: string
  /** "" for the top node, else the role it fills in its parent */
  readonly role: string
  readonly method: MethodDeclaration
  /** canonical: alias-fixed values written out, method defaults filled in */
  readonly params: Readonly<Record<string, ParamValue>>
  readonly inputs: readonly TreeNode[]
  readonly base: TreeNode | null
}

/** LoRAs baked into a model (engine/lora): the result has the model's keys, with each LoRA's delta added. */
export interface LoraTreeNode {
  readonly kind: 'lora'
  /** recipe path of the node: "merge.inputs[0]" */
  readonly where: string
  /** the role it fills in its parent; its model fills the same role */
  readonly role: string
  readonly model: TreeNode
  readonly loras: readonly ResolvedLora[]
}

export interface ResolvedLora {
  /** recipe path: "merge.inputs[0].loras[1]" */
  readonly where: string
  /** absolute */
  readonly path: string
  readonly strength: number
  readonly blocks: LoraBlockWeights | null
}

export type TreeNode = ModelLeaf | MethodNode | LoraTreeNode

/** a, b, c, ... by input position (input27, ... past z). */
export function roleName(index: number): string {
  return index < 26 ? String.fromCharCode(97 + index) : `input${index}`
}

function childRole(parent: string, role: string): string {
  return parent === '' ? role : `${parent}.${role}`
}

/** Checks and canonicalises the merge tree; relative model paths are resolved against `baseDir`. */
export function resolveTree(node: MergeNode, baseDir: string): MethodNode {
  return resolveNode(node, 'merge', '', baseDir)
}

function resolveInput(input: Input, where: string, role: string, baseDir: string): TreeNode {
  if (isLoraNode(input)) return resolveLoraNode(input, where, role, baseDir)
  if (!isModelInput(input)) return resolveNode(input, where, role, baseDir)
  return {
    kind: 'model',
    where,
    role,
    path: resolve(baseDir, input.model),
    input: { ...(input.sha256 === undefined ? {} : { sha256: input.sha256 }), ...(input.size === undefined ? {} : { size: input.size }) },
  }
}

function resolveLoraNode(node: LoraNode, where: string, role: string, baseDir: string): LoraTreeNode {
  return {
    kind: 'lora',
    where,
    role,
    model: resolveInput(node.lora, `${where}.lora`, role, baseDir),
    loras: node.loras.map((l, i) => ({ where: `${where}.loras[${i}]`, path: resolve(baseDir, l.path), strength: l.strength, blocks: l.blocks ?? null })),
  }
}

function resolveNode(node: MergeNode, where: string, role: string, baseDir: string): MethodNode {
  let resolved: ResolvedMethod
  try {
    resolved = resolveMethod(node.method)
  } catch (err) {
    if (isAmalgamError(err)) throw new AmalgamError(err.code, `${where}.method: ${err.message}`)
    throw err
  }
  const { method } = resolved
  const { min, max } = method.inputs
  const count = node.inputs.length
  if (count < min || (max !== null && count > max)) {
    const takes = max === null ? `${min} or more` : min === max ? `${min}` : `${min} to ${max}`
    throw new AmalgamError('BAD_RECIPE', `${where}.inputs: ${method.id} takes ${takes} input${takes === '1' ? '' : 's'}, got ${count}`)
  }
  if (method.inputs.base === 'required' && node.base === undefined) {
    throw new AmalgamError('BAD_RECIPE', `${where}.base: ${method.id} needs a base model (${method.inputs.baseRole ?? 'the common ancestor'})`)
  }
  if (method.inputs.base === 'none' && node.base !== undefined) {
    throw new AmalgamError('BAD_RECIPE', `${where}.base: ${method.id} takes no base model`)
  }
  return {
    kind: 'node',
    where,
    role,
    method,
    params: canonicalParams(resolved, node.params, count, `${where}.params`),
    inputs: node.inputs.map((input, i) => resolveInput(input, `${where}.inputs[${i}]`, childRole(role, roleName(i)), baseDir)),
    base: node.base === undefined ? null : resolveInput(node.base, `${where}.base`, childRole(role, 'base'), baseDir),
  }
}

/**
 * The node's parameters with the alias's fixed values and the method defaults written out. Values
 * are checked by completeParams on a representative scalar (each structured value's global value),
 * so names, types, ranges and per-input counts are refused here with their recipe path; the values
 * a structured parameter takes for each key are checked again when keys are planned.
 */
function canonicalParams(resolved: ResolvedMethod, given: Readonly<Record<string, ParamValue>>, inputCount: number, where: string): Record<string, ParamValue> {
  const representative: Record<string, ScalarParam> = {}
  for (const [name, value] of Object.entries(given)) {
    const scalar = representativeOf(value)
    if (scalar !== undefined) representative[name] = scalar
  }
  const complete = completeParams(resolved, representative, inputCount, where)
  const out: Record<string, ParamValue> = {}
  for (const [name, decl] of Object.entries(resolved.method.params)) {
    const value = given[name]
    const filled = complete[name]!
    if (value === undefined) out[name] = typeof filled === 'object' ? [...filled] : filled
    else if (decl.type === 'number' || decl.type === 'integer') out[name] = withDefault(value, decl.default)
    else out[name] = value
  }
  return out
}

/**
 * One value a parameter takes, for checking its type and range: a structured value's global value,
 * else any number it holds (a parameter given only per block still has a type to check).
 */
function representativeOf(value: ParamValue): ScalarParam | undefined {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'number' ? v : (someNumber(v) ?? NaN)))
  if (typeof value === 'object') return someNumber(value)
  return value
}

function someNumber(value: StructuredNumber): number | undefined {
  return value.value ?? Object.values(value.blocks ?? {})[0] ?? value.gradient?.[0] ?? value.keys?.[0]?.value
}

/** A structured value without a global value gets the method default as one, so reruns do not depend on defaults. */
function withDefault(value: ParamValue, fallback: number | null): ParamValue {
  const fill = (v: NumberValue): NumberValue => (typeof v === 'number' || v.value !== undefined || fallback === null ? v : { ...v, value: fallback })
  if (Array.isArray(value)) return value.map(fill)
  if (typeof value === 'object') return fill(value)
  return value
}

/** The leaves of a subtree, inputs before base, depth first. */
export function leavesOf(node: TreeNode): ModelLeaf[] {
  if (node.kind === 'model') return [node]
  if (node.kind === 'lora') return leavesOf(node.model)
  return [...node.inputs.flatMap(leavesOf), ...(node.base === null ? [] : leavesOf(node.base))]
}

/** The model a subtree's result is built on: the first input, followed down through nested nodes. */
export function primaryLeaf(node: TreeNode): ModelLeaf {
  let current = node
  while (current.kind !== 'model') current = current.kind === 'lora' ? current.model : current.inputs[0]!
  return current
}

/** The tree back as a recipe merge node (method ids, canonical params, absolute paths). */
export function toMergeNode(node: MethodNode): MergeNode {
  return {
    method: node.method.id,
    inputs: node.inputs.map(toInput),
    ...(node.base === null ? {} : { base: toInput(node.base) }),
    params: { ...node.params },
  }
}

function toInput(node: TreeNode): Input {
  if (node.kind === 'lora') {
    return { lora: toInput(node.model), loras: node.loras.map((l) => ({ path: l.path, strength: l.strength, ...(l.blocks === null ? {} : { blocks: l.blocks }) })) }
  }
  return node.kind === 'model' ? { model: node.path, ...node.input } : toMergeNode(node)
}

/** Every LoRA node of a subtree, depth first. */
export function loraNodesOf(node: TreeNode): LoraTreeNode[] {
  if (node.kind === 'model') return []
  if (node.kind === 'lora') return [node, ...loraNodesOf(node.model)]
  return [...node.inputs.flatMap(loraNodesOf), ...(node.base === null ? [] : loraNodesOf(node.base))]
}

/** Every structured numeric value in the tree with its recipe path, for block and regex checks. */
export function structuredParams(node: MethodNode): { where: string; value: StructuredNumber; perBlock: boolean }[] {
  const found: { where: string; value: StructuredNumber; perBlock: boolean }[] = []
  for (const [name, value] of Object.entries(node.params)) {
    const decl = node.method.params[name]
    const perBlock = decl !== undefined && (decl.type === 'number' || decl.type === 'integer') && decl.perBlock
    const where = `${node.where}.params.${name}`
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (typeof v === 'object') found.push({ where: `${where}[${i}]`, value: v, perBlock })
      })
    } else if (typeof value === 'object') {
      found.push({ where, value, perBlock })
    }
  }
  for (let child of [...node.inputs, ...(node.base === null ? [] : [node.base])]) {
    while (child.kind === 'lora') child = child.model
    if (child.kind === 'node') found.push(...structuredParams(child))
  }
  return found
}
