import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Recipe, VocabularyPolicy } from '../../common/recipe'
import { OUTPUT_PROJECTION_PATTERN, TOKEN_EMBEDDING_PATTERN } from '../arch/llm'
import { AmalgamError } from '../errors'
import type { TensorInfo } from '../formats/checkpoint'
import { channelView } from '../plan/expressions'
import type { Findings } from '../plan/findings'
import type { PlanInput } from '../plan/plan-inputs'
import type { PlannedKey } from '../plan/plan-keys'
import { primaryLeaf, type MethodNode, type ModelLeaf } from '../plan/recipe-tree'

/** What the LLM checks decided, for the rest of the plan. */
export interface LlmMergeDecisions {
  /** the planned keys with the vocabulary policy applied to the embedding and head */
  finish(keys: readonly PlannedKey[]): PlannedKey[]
  /** the input whose tokenizer (and vocab_size) the output has: a, or the input embeddings are taken from */
  readonly vocabularySource: PlanInput
}

interface LlmMergeContext {
  readonly recipe: Recipe
  readonly tree: MethodNode
  readonly aLeaf: ModelLeaf
  readonly leaves: readonly ModelLeaf[]
  /** the inputs by path; entries are replaced here when a tensor must be viewed differently (tied heads, vocabulary) */
  readonly inputs: Map<string, PlanInput>
  readonly findings: Findings
}

/**
 * The checks mergekit makes before merging language models, and what follows from them: every input
 * is of a's family and depth; a head tied to the embeddings is treated as that tensor (mergekit's
 * tied_names), so tied and untied inputs merge consistently and the output ties like a; inputs whose
 * vocabularies differ are refused unless options.vocabulary says what to do.
 */
export async function prepareLlmMerge(ctx: LlmMergeContext): Promise<LlmMergeDecisions> {
  const a = ctx.inputs.get(ctx.aLeaf.path)!
  const identity: LlmMergeDecisions = { finish: (keys) => [...keys], vocabularySource: a }
  if (a.detection.architecture !== 'llm' || a.detection.llm === null) return identity
  const others = distinctOthers(ctx, a)
  checkFamilies(a, others)
  for (const { leaf, input } of others) ctx.inputs.set(input.path, consistentHead(a, input, leaf, ctx.findings))
  await noteTokenizers(a, others, ctx.findings)
  return applyVocabulary(ctx, a, ctx.recipe.options.vocabulary)
}

function distinctOthers(ctx: LlmMergeContext, a: PlanInput): { leaf: ModelLeaf; input: PlanInput }[] {
  const seen = new Set([a.path])
  const others: { leaf: ModelLeaf; input: PlanInput }[] = []
  for (const leaf of ctx.leaves) {
    if (seen.has(leaf.path)) continue
    seen.add(leaf.path)
    others.push({ leaf, input: ctx.inputs.get(leaf.path)! })
  }
  return others
}

function checkFamilies(a: PlanInput, others: readonly { leaf: ModelLeaf; input: PlanInput }[]): void {
  const mine = a.detection.llm!
  for (const { leaf, input } of others) {
    const theirs = input.detection.llm
    if (theirs === null) continue
    if (theirs.family !== mine.family) {
      throw new AmalgamError('INCOMPATIBLE_MODELS', `${leaf.where}: the models are of different families: a (${a.path}) is ${mine.family}, ${leaf.role} (${input.path}) is ${theirs.family}`)
    }
    if (theirs.layers !== mine.layers) {
      throw new AmalgamError(
        'INCOMPATIBLE_MODELS',
        `${leaf.where}: a (${a.path}) has ${mine.layers} layers, ${leaf.role} (${input.path}) has ${theirs.layers}: a layer-by-layer merge needs the same depth`,
      )
    }
  }
}

function keyMatching(input: PlanInput, pattern: RegExp): string | undefined {
  for (const [key, t] of input.tensors) if (pattern.test(key) && t.shape.length === 2) return key
  return undefined
}

/**
 * The input with its head made to match a's: an input without lm_head (tied) lends its token
 * embedding as the head when a has one; an untied input's lm_head is left out when a ties (the
 * output ties like a, as config.json says).
 */
function consistentHead(a: PlanInput, input: PlanInput, leaf: ModelLeaf, findings: Findings): PlanInput {
  const aHead = keyMatching(a, OUTPUT_PROJECTION_PATTERN)
  const head = keyMatching(input, OUTPUT_PROJECTION_PATTERN)
  if (aHead !== undefined && head === undefined) {
    const embedding = keyMatching(input, TOKEN_EMBEDDING_PATTERN)
    if (embedding === undefined) return input
    const tensors = new Map(input.tensors)
    tensors.set(aHead, input.tensors.get(embedding)!)
    findings.add('info', 'TIED_EMBEDDINGS', `${leaf.role} (${input.path}) ties its head to its embeddings: its ${embedding} is merged into a's ${aHead}`)
    return { ...input, tensors }
  }
  if (aHead === undefined && head !== undefined) {
    const tensors = new Map(input.tensors)
    tensors.delete(head)
    findings.add('info', 'TIED_EMBEDDINGS', `a ties its head to its embeddings, so the output does too: ${leaf.role}'s ${head} (${input.path}) is not used`)
    return { ...input, tensors }
  }
  return input
}

/** The files that define a tokenizer's token ids. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer.model', 'vocab.json']

/** Same vocabulary size, different tokenizer files: token ids may mean different words; worth a warning, not a refusal. */
async function noteTokenizers(a: PlanInput, others: readonly { leaf: ModelLeaf; input: PlanInput }[], findings: Findings): Promise<void> {
  if (a.hfFolder === undefined) return
  for (const name of TOKENIZER_FILES) {
    const mine = await readFile(join(a.path, name)).catch(() => null)
    if (mine === null) continue
    for (const { leaf, input } of others) {
      if (input.hfFolder === undefined) continue
      const theirs = await readFile(join(input.path, name)).catch(() => null)
      if (theirs !== null && !mine.equals(theirs)) {
        findings.add('warning', 'TOKENIZER_DIFFERS', `${leaf.role} (${input.path}) has another ${name} than a: the same token id may stand for different text in the two models`)
      }
    }
    return
  }
}

/** The vocabulary-sized tensors of a: token embedding and (untied) head. */
function vocabularyKeys(a: PlanInput): string[] {
  return [keyMatching(a, TOKEN_EMBEDDING_PATTERN), keyMatching(a, OUTPUT_PROJECTION_PATTERN)].filter((k): k is string => k !== undefined)
}

function rowsOf(t: TensorInfo): number {
  return t.shape[0] ?? 0
}

function applyVocabulary(ctx: LlmMergeContext, a: PlanInput, policy: VocabularyPolicy | undefined): LlmMergeDecisions {
  const keys = vocabularyKeys(a)
  const paths = [...new Set(ctx.leaves.map((l) => l.path))]
  const differing = keys.filter((key) => new Set(paths.map((p) => ctx.inputs.get(p)!.tensors.get(key)).filter((t) => t !== undefined).map(rowsOf)).size > 1)
  if (policy !== undefined && typeof policy === 'object') return takeVocabulary(ctx, keys, policy.take)
  if (differing.length === 0) return { finish: (planned) => [...planned], vocabularySource: a }
  if (policy === undefined) throw refuseVocabulary(ctx, differing[0]!)
  return fitToA(ctx, a, differing)
}

function refuseVocabulary(ctx: LlmMergeContext, key: string): AmalgamError {
  const sizes = ctx.leaves
    .filter((leaf, i) => ctx.leaves.findIndex((l) => l.path === leaf.path) === i)
    .map((leaf) => {
      const t = ctx.inputs.get(leaf.path)!.tensors.get(key)
      return `${leaf.role} (${leaf.path}) ${t === undefined ? 'lacks it' : `has ${rowsOf(t)} tokens`}`
    })
  return new AmalgamError(
    'INCOMPATIBLE_MODELS',
    `the vocabularies differ: ${key} of ${sizes.join(', ')}. Rows of different vocabularies are different tokens and must not be averaged. ` +
      `Set options.vocabulary to "fit-to-a" (a's vocabulary and tokenizer: the rows all inputs have are merged, the rest are a's) ` +
      `or to {"take": N} (embeddings, head and tokenizer of input N, 0 = a)`,
  )
}

/** "fit-to-a": every input's vocabulary tensors are cut to the rows all share; a's rows beyond them are kept as they are. */
function fitToA(ctx: LlmMergeContext, a: PlanInput, keys: readonly string[]): LlmMergeDecisions {
  const full = new Map<string, TensorInfo>()
  for (const key of keys) {
    const paths = [...new Set(ctx.leaves.map((l) => l.path))]
    const shared = Math.min(...paths.map((p) => ctx.inputs.get(p)!.tensors.get(key)).filter((t) => t !== undefined).map(rowsOf))
    const aTensor = a.tensors.get(key)!
    if (rowsOf(aTensor) > shared) full.set(key, aTensor)
    for (const path of paths) {
      const input = ctx.inputs.get(path)!
      const t = input.tensors.get(key)
      if (t === undefined || rowsOf(t) === shared) continue
      const tensors = new Map(input.tensors)
      tensors.set(key, { ...t, shape: [shared, ...t.shape.slice(1)], locator: channelView(t.locator, 0, shared) })
      ctx.inputs.set(path, { ...input, tensors })
    }
    ctx.findings.add('warning', 'VOCABULARY_FITTED', `${key}: the first ${shared} token rows are merged; ${rowsOf(aTensor) - shared} rows only a has are a's, rows beyond a's vocabulary are dropped (options.vocabulary "fit-to-a")`)
  }
  return {
    vocabularySource: a,
    finish: (planned) =>
      planned.map((k) => {
        const aTensor = full.get(k.key)
        if (aTensor === undefined) return k
        if (k.action.kind === 'merge') return { ...k, shape: aTensor.shape, action: { ...k.action, slice: { dim: 0, count: k.shape[0] ?? 0, full: aTensor.locator } } }
        return { ...k, shape: aTensor.shape, action: { kind: 'copy', source: aTensor.locator }, inputBytes: aTensor.locator.byteLength }
      }),
  }
}

/** {take: N}: the vocabulary tensors are copied from input N, whose tokenizer and vocab_size the output gets. */
function takeVocabulary(ctx: LlmMergeContext, keys: readonly string[], take: number): LlmMergeDecisions {
  const node = ctx.tree.inputs[take]
  if (node === undefined) throw new AmalgamError('BAD_RECIPE', `options.vocabulary.take: there is no input ${take} (the merge has ${ctx.tree.inputs.length} inputs, 0 = a)`)
  const source = ctx.inputs.get(primaryLeaf(node).path)!
  const taken = new Map<string, TensorInfo>()
  for (const key of keys) {
    const t = source.tensors.get(key)
    if (t === undefined) throw new AmalgamError('BAD_RECIPE', `options.vocabulary.take: input ${take} (${source.path}) has no ${key}`)
    taken.set(key, t)
    // every input sees N's tensor, so no shape differs while the keys are planned; the key is then a copy of it
    for (const path of new Set(ctx.leaves.map((l) => l.path))) {
      const input = ctx.inputs.get(path)!
      if (!input.tensors.has(key)) continue
      const tensors = new Map(input.tensors)
      tensors.set(key, t)
      ctx.inputs.set(path, { ...input, tensors })
    }
  }
  ctx.findings.add('info', 'VOCABULARY_TAKEN', `${keys.join(' and ')} and the tokenizer are taken from input ${take} (${source.path}) (options.vocabulary)`)
  return {
    vocabularySource: source,
    finish: (planned) =>
      planned.map((k) => {
        const t = taken.get(k.key)
        return t === undefined ? k : { ...k, shape: t.shape, action: { kind: 'copy', source: t.locator }, inputBytes: t.locator.byteLength }
      }),
  }
}
