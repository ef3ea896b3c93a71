import { resolve } from 'node:path'
import type { LayerSlice, Recipe } from '../../common/recipe'
import { layerIndexOf, renumberLayer } from '../arch/llm'
import { AmalgamError } from '../errors'
import { isFloatDType, type FloatDType } from '../formats/dtype'
import type { Findings } from '../plan/findings'
import { openPlanInput, type PlanInput } from '../plan/plan-inputs'
import type { PlannedKey } from '../plan/plan-keys'
import type { MethodNode } from '../plan/recipe-tree'
import type { PlannedInputFile } from '../plan/types'

/** A frankenmerge's layer stack, planned: the slice models and how the output's keys are made. */
export interface LayerSlicePlan {
  /** every slice model, by absolute path (a included when a slice uses it) */
  readonly inputs: ReadonlyMap<string, PlanInput>
  /** slice models that are not merge inputs, as files to hash and record (role `slices[i]`) */
  readonly extraFiles: readonly PlannedInputFile[]
  /** the slices with absolute model paths, for the canonical recipe */
  readonly slices: readonly LayerSlice[]
  /** output layer count (config.json num_hidden_layers) */
  readonly layers: number
  /** a's keys outside the layer stack around the slices' layers, renumbered from 0 */
  finish(keys: readonly PlannedKey[]): PlannedKey[]
}

/**
 * Plans a frankenmerge (mergekit passthrough with slices): the output has a's embeddings, final norm
 * and head, and between them the layers of the slices in order, each slice's layers [from, to)
 * copied from its model and renumbered consecutively from 0. The merge itself must be passthrough
 * of the model that gives embeddings and head (a). Slice models must be of a's family and width.
 */
export async function planLayerSlices(recipe: Recipe, tree: MethodNode, a: PlanInput, baseDir: string, opened: ReadonlyMap<string, PlanInput>, outputDType: FloatDType, findings: Findings): Promise<LayerSlicePlan | null> {
  if (recipe.slices === undefined) return null
  if (tree.method.id !== 'scale' || tree.params.variant !== 'plain' || tree.params.scale !== 1) {
    throw new AmalgamError('BAD_RECIPE', 'slices: a frankenmerge copies layers unchanged: merge.method must be passthrough (of the model that gives the embeddings and head)')
  }
  if (a.detection.llm === null) throw new AmalgamError('BAD_RECIPE', `slices: a (${a.path}) is not a language model; layer slices are for LLMs`)
  const inputs = new Map<string, PlanInput>()
  const extraFiles: PlannedInputFile[] = []
  const slices: LayerSlice[] = []
  for (const [i, slice] of recipe.slices.entries()) {
    const where = `slices[${i}]`
    const path = resolve(baseDir, slice.model)
    let input = inputs.get(path) ?? opened.get(path)
    if (input === undefined) {
      input = await openPlanInput(path, `${where}.model`)
      extraFiles.push({ role: where, path, size: input.size, mtimeMs: input.mtimeMs, architecture: input.detection.architecture, metadata: input.checkpoint.metadata, dataStart: input.checkpoint.dataStart ?? null })
    }
    inputs.set(path, input)
    checkSlice(where, slice, input, a)
    slices.push({ model: path, layers: slice.layers })
  }
  const layers = slices.reduce((sum, s) => sum + (s.layers[1] - s.layers[0]), 0)
  findings.add('info', 'LAYER_SLICES', `frankenmerge: ${layers} layers from ${slices.map((s) => `${s.model} [${s.layers[0]}, ${s.layers[1]})`).join(' + ')}; embeddings and head from a`)
  return {
    inputs,
    extraFiles,
    slices,
    layers,
    finish: (keys) => {
      const firstLayer = keys.findIndex((k) => layerIndexOf(k.key) !== null)
      const before = keys.slice(0, firstLayer === -1 ? keys.length : firstLayer).filter((k) => layerIndexOf(k.key) === null)
      const after = keys.slice(before.length).filter((k) => layerIndexOf(k.key) === null)
      return [...before, ...sliceKeys(slices, inputs, outputDType), ...after]
    },
  }
}

function checkSlice(where: string, slice: LayerSlice, input: PlanInput, a: PlanInput): void {
  const llm = input.detection.llm
  const mine = a.detection.llm!
  if (llm === null) throw new AmalgamError('INCOMPATIBLE_MODELS', `${where}.model: ${input.path} is not a language model`)
  if (llm.family !== mine.family || llm.hiddenSize !== mine.hiddenSize) {
    throw new AmalgamError('INCOMPATIBLE_MODELS', `${where}.model: ${input.path} is ${llm.family} with hidden size ${llm.hiddenSize}, a is ${mine.family} with ${mine.hiddenSize}: their layers cannot be stacked`)
  }
  const [from, to] = slice.layers
  if (!(from < to && to <= llm.layers)) {
    throw new AmalgamError('BAD_RECIPE', `${where}.layers: [${from}, ${to}) is not a range of ${input.path}'s ${llm.layers} layers (from < to <= ${llm.layers}; to is exclusive)`)
  }
}

/** The slices' layer tensors, renumbered consecutively, copied in the output dtype (integer tensors as they are). */
function sliceKeys(slices: readonly LayerSlice[], inputs: ReadonlyMap<string, PlanInput>, outputDType: FloatDType): PlannedKey[] {
  const out: PlannedKey[] = []
  let next = 0
  for (const slice of slices) {
    const input = inputs.get(slice.model)!
    for (let layer = slice.layers[0]; layer < slice.layers[1]; layer++, next++) {
      for (const [key, t] of input.tensors) {
        if (layerIndexOf(key) !== layer) continue
        const renamed = renumberLayer(t.key, next)
        if (renamed === null) continue
        out.push({ key: renamed, dtype: isFloatDType(t.dtype) ? outputDType : t.dtype, shape: t.shape, action: { kind: 'copy', source: t.locator }, block: null, inputBytes: t.locator.byteLength })
      }
    }
  }
  return out
}
