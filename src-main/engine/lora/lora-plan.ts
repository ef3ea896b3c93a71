import { AmalgamError, isAmalgamError } from '../errors'
import { numelOf } from '../formats/dtype'
import { openCheckpoint } from '../formats/open'
import { refuseInputAsOutput } from '../formats/safetensors/writer'
import { TensorReader } from '../formats/tensor-reader'
import type { LoraPatchesOf } from '../plan/expressions'
import type { Findings } from '../plan/findings'
import type { PlanInput } from '../plan/plan-inputs'
import { loraNodesOf, primaryLeaf, type LoraTreeNode, type ModelLeaf, type ResolvedLora, type TreeNode } from '../plan/recipe-tree'
import type { LoraPatch } from '../plan/types'
import { blockWeights, keyBlockWeight, lbwConvention } from './block-weights'
import { readLoraFile, type LoraFile } from './lora-file'
import { matchLora } from './lora-match'

/** A LoRA file is an input like any other: never the output (overwriting it would destroy it). */
export async function refuseLoraAsOutput(outputPath: string, tree: TreeNode, findings: Findings): Promise<void> {
  try {
    await refuseInputAsOutput(outputPath, loraNodesOf(tree).flatMap((node) => node.loras.map((l) => l.path)))
  } catch (err) {
    if (!isAmalgamError(err, 'OUTPUT_IS_INPUT')) throw err
    findings.add('blocking', 'OUTPUT_IS_INPUT', `output.path: ${err.message}`)
  }
}

/** How many module names a finding lists before "…". */
const LISTED = 3

/**
 * Opens every LoRA of the tree's LoRA nodes, matches its modules with the keys of the model it is
 * applied to (the node's primary model), and returns each node's deltas by key, with strength,
 * block weight and alpha / rank folded into one scale. Modules that match nothing, or match with
 * another shape, are findings; a LoRA none of whose modules match is a blocking one.
 */
export async function planLoraPatches(tree: TreeNode, inputOf: (leaf: ModelLeaf) => PlanInput, findings: Findings): Promise<LoraPatchesOf> {
  const byNode = new Map<LoraTreeNode, Map<string, LoraPatch[]>>()
  const reader = new TensorReader()
  try {
    for (const node of loraNodesOf(tree)) {
      const model = inputOf(primaryLeaf(node.model))
      const patches = new Map<string, LoraPatch[]>()
      for (const lora of node.loras) addLora(patches, lora, await openLora(lora, reader), model, findings)
      byNode.set(node, patches)
    }
  } finally {
    reader.close()
  }
  return (node, key) => byNode.get(node)?.get(key) ?? []
}

async function openLora(lora: ResolvedLora, reader: TensorReader): Promise<LoraFile> {
  let file: LoraFile
  try {
    file = readLoraFile(await openCheckpoint(lora.path), reader)
  } catch (err) {
    if (err instanceof AmalgamError) throw new AmalgamError(err.code, `${lora.where}.path: ${err.message}`, err.file)
    throw err
  }
  if (file.modules.length === 0) {
    throw new AmalgamError('BAD_RECIPE', `${lora.where}.path: ${lora.path} holds no LoRA, LoCon, LoHa or LoKr module Amalgam can apply (is it a LoRA?)`)
  }
  return file
}

function addLora(patches: Map<string, LoraPatch[]>, lora: ResolvedLora, file: LoraFile, model: PlanInput, findings: Findings): void {
  const architecture = model.detection.architecture
  const match = matchLora(file, architecture, model.tensors)
  const what = `${lora.where} (${lora.path})`
  const first = (names: readonly string[]): string => names.slice(0, LISTED).join(', ') + (names.length > LISTED ? ', …' : '')
  if (match.byKey.size === 0) {
    findings.add('blocking', 'LORA_MATCHES_NOTHING', `${what}: none of its ${file.modules.length} modules is a layer of the ${architecture} model ${model.path} (first: ${first(file.modules.map((m) => m.fileName))}); is it a LoRA for another architecture?`)
    return
  }
  if (match.unmatched.length > 0) {
    findings.add('warning', 'LORA_UNMATCHED', `${what}: ${match.unmatched.length} of its ${file.modules.length} modules match no layer of ${model.path} and are left out (first: ${first(match.unmatched)})`)
  }
  if (match.shapeMismatches.length > 0) {
    const firstMismatch = match.shapeMismatches[0]!
    findings.add('warning', 'LORA_SHAPE_MISMATCH', `${what}: ${match.shapeMismatches.length} modules do not fit their layer's shape and are left out (first: ${firstMismatch.module}: ${firstMismatch.why})`)
  }
  if (file.unsupported.length > 0) {
    findings.add('warning', 'LORA_UNSUPPORTED_MODULES', `${what}: ${file.unsupported.length} modules use what Amalgam cannot apply yet (DoRA, Tucker factors, unknown tensors) and are left out (first: ${first(file.unsupported)})`)
  }
  const weightOf = blockWeightOf(lora, architecture)
  for (const [key, modules] of match.byKey) {
    const shape = model.tensors.get(key)?.shape ?? []
    const kernel = shape.length > 2 ? numelOf(shape.slice(2)) : 1
    const weight = lora.strength * weightOf(key)
    if (weight === 0) continue
    let list = patches.get(key)
    if (list === undefined) patches.set(key, (list = []))
    for (const { module, target } of modules) list.push({ factors: module.factors, scale: module.scale * weight, rows: target.rows, kernel })
  }
}

function blockWeightOf(lora: ResolvedLora, architecture: PlanInput['detection']['architecture']): (key: string) => number {
  if (lora.blocks === null) return () => 1
  const convention = lbwConvention(architecture)
  if (convention === null) throw new AmalgamError('BAD_RECIPE', `${lora.where}.blocks: LoRA block weights are defined for SD1, SD2, SDXL and Flux models, not ${architecture}`)
  const weights = blockWeights(architecture, convention, lora.blocks, `${lora.where}.blocks`)
  return (key) => keyBlockWeight(convention, weights, key)
}
