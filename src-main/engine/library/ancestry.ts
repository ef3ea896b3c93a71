import { basename } from 'node:path'
import { z } from 'zod'
import type { AncestryNode } from '../../common/ipc'
import type { Lineage } from '../../common/lineage'
import type { ModelEntry } from '../../common/model-entry'
import { isLoraNode, isModelInput, MergeNode, type Input, type ModelInput } from '../../common/recipe'
import { jsonEntry, SD_MERGE_MODELS, SD_MERGE_RECIPE } from '../lineage/a1111'

/*
 * The family tree of a merged model, from what merged files carry: Amalgam's embedded recipe (the
 * shape of the merge, inputs by path), A1111's sd_merge_recipe (parents by SHA-256) and
 * sd_merge_models (every ancestor by SHA-256 with its own sd_merge_recipe, so grandparents are found
 * through it), and the lineage sidecar when there is one (inputs' hashes, inputs' own recipes).
 */

/** Deeper than any real merge chain; guards against hand-made metadata that nests without end. */
const MAX_DEPTH = 32

const A1111Recipe = z.looseObject({
  primary_model_hash: z.string().nullish(),
  secondary_model_hash: z.string().nullish(),
  tertiary_model_hash: z.string().nullish(),
  interp_method: z.string().nullish(),
})
type A1111Recipe = z.infer<typeof A1111Recipe>

const MergedModel = z.looseObject({ name: z.string().nullish(), sd_merge_recipe: z.unknown().optional() })

const EmbeddedRecipe = z.looseObject({ format: z.literal('amalgam.recipe'), merge: MergeNode })

interface Known {
  /** sha256 → name and own recipe (A1111's sd_merge_models, the lineage's inputs) */
  readonly models: ReadonlyMap<string, { readonly name: string | null; readonly recipe: unknown }>
  /** file name → sha256, to put hashes on recipe inputs (which name files by path) */
  readonly shaByName: ReadonlyMap<string, string>
}

/** The tree with `entry` at its root; null for a model that carries no merge record. */
export function ancestryOf(entry: ModelEntry, lineage: Lineage | null): AncestryNode | null {
  const known = knownModels(entry.metadata, lineage)
  const root = { name: entry.name, sha256: entry.hashes.sha256 }
  const path = new Set(entry.hashes.sha256 === null ? [] : [entry.hashes.sha256])
  // ours first (it has the merge's shape); a recipe this version cannot read falls back to the next record
  for (const recipe of [entry.recipe, lineage?.recipe, jsonEntry(entry.metadata, SD_MERGE_RECIPE)]) {
    const tree = recipe === undefined || recipe === null ? null : fromRecipe(root, recipe, known, path, 0)
    if (tree !== null) return tree
  }
  return null
}

function fromRecipe(node: { name: string; sha256: string | null }, recipe: unknown, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode | null {
  if (depth > MAX_DEPTH) return null
  const text = typeof recipe === 'string' ? parseJson(recipe) : recipe
  const ours = EmbeddedRecipe.safeParse(text)
  if (ours.success) return fromMergeNode(node, ours.data.merge, known, path, depth)
  const theirs = A1111Recipe.safeParse(text)
  if (theirs.success && parentHashes(theirs.data).length > 0) return fromA1111(node, theirs.data, known, path, depth)
  return null
}

function fromMergeNode(node: { name: string; sha256: string | null }, merge: MergeNode, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode {
  const inputs: Input[] = merge.base === undefined ? merge.inputs : [...merge.inputs, merge.base]
  const parents = inputs.map((input) => fromInput(input, known, path, depth + 1))
  return { ...node, method: merge.method, parents }
}

function fromInput(input: Input, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode {
  if (isModelInput(input)) return fromModelInput(input, known, path, depth)
  // baked-in LoRAs are a step of their own, whose parent is the model they were baked into
  if (isLoraNode(input)) return { name: 'LoRA bake-in', sha256: null, method: 'lora', parents: [fromInput(input.lora, known, path, depth + 1)] }
  return fromMergeNode({ name: 'nested merge', sha256: null }, input, known, path, depth)
}

function fromModelInput(input: ModelInput, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode {
  const name = basename(input.model)
  const sha256 = input.sha256 ?? known.shaByName.get(name) ?? null
  return fromHash(name, sha256, known, path, depth)
}

function fromA1111(node: { name: string; sha256: string | null }, recipe: A1111Recipe, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode {
  const parents = parentHashes(recipe).map((sha256) => fromHash(known.models.get(sha256)?.name ?? sha256.slice(0, 10), sha256, known, path, depth + 1))
  return { ...node, method: recipe.interp_method ?? null, parents }
}

/** A parent; its own parents come from what is known about its hash (a hash already on the path stops the walk). */
function fromHash(name: string, sha256: string | null, known: Known, path: ReadonlySet<string>, depth: number): AncestryNode {
  const leaf: AncestryNode = { name, sha256, method: null, parents: [] }
  if (sha256 === null || path.has(sha256)) return leaf
  const recipe = known.models.get(sha256)?.recipe
  if (recipe === undefined || recipe === null) return leaf
  return fromRecipe({ name, sha256 }, recipe, known, new Set([...path, sha256]), depth) ?? leaf
}

function parentHashes(recipe: A1111Recipe): string[] {
  return [recipe.primary_model_hash, recipe.secondary_model_hash, recipe.tertiary_model_hash].filter((h): h is string => typeof h === 'string' && h !== '')
}

function knownModels(metadata: Readonly<Record<string, string>>, lineage: Lineage | null): Known {
  const models = new Map<string, { name: string | null; recipe: unknown }>()
  const shaByName = new Map<string, string>()
  const merged = jsonEntry(metadata, SD_MERGE_MODELS)
  if (merged !== null && typeof merged === 'object' && !Array.isArray(merged)) {
    for (const [sha256, value] of Object.entries(merged)) {
      const parsed = MergedModel.safeParse(value)
      if (!parsed.success) continue
      const name = parsed.data.name ?? null
      models.set(sha256, { name, recipe: parsed.data.sd_merge_recipe ?? null })
      // A1111 names models by their path under the models folder; recipes name files by path too
      if (name !== null) shaByName.set(basename(name), sha256)
    }
  }
  for (const input of lineage?.inputs ?? []) {
    if (input.sha256 === null) continue
    shaByName.set(basename(input.path), input.sha256)
    if (!models.has(input.sha256) || input.parentRecipe !== undefined) models.set(input.sha256, { name: basename(input.path), recipe: input.parentRecipe ?? null })
  }
  return { models, shaByName }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
