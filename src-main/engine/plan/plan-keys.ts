import type { ComponentChoice, PredictionType, Recipe } from '../../common/recipe'
import type { BlockConvention } from '../arch/blocks'
import { blockPosition } from '../arch/blocks'
import { componentOf, type ComponentId } from '../arch/components'
import { styledKey } from '../arch/keys'
import type { TensorInfo, TensorLocator } from '../formats/checkpoint'
import { isFloatDType, type DType, type FloatDType } from '../formats/dtype'
import type { KeyPosition } from '../recipe/param-values'
import { buildExpr, channelView, distinctLeaves, type LoraPatchesOf } from './expressions'
import type { Findings } from './findings'
import { plural } from './findings'
import { sameShape, type PlanInput } from './plan-inputs'
import { isPositionIds } from './position-ids'
import { leavesOf, primaryLeaf, type MethodNode, type ModelLeaf, type TreeNode } from './recipe-tree'
import type { ChannelSlice, KeyAction } from './types'
import type { VaeSource } from './vae-file'

/** One output tensor before its place in the file is known. */
export interface PlannedKey {
  readonly key: string
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly action: KeyAction
  readonly block: string | null
  readonly inputBytes: number
}

export interface KeyCounts {
  merged: number
  copied: number
  dropped: number
  missing: number
  shapeMismatches: number
}

export interface KeyPlanningContext {
  readonly tree: MethodNode
  /** the file behind a leaf (with EMA weights swapped in when the recipe asks) */
  readonly inputOf: (leaf: ModelLeaf) => PlanInput
  readonly components: ReadonlyMap<ComponentId, ComponentChoice>
  readonly keys: Recipe['keys']
  readonly resetPositionIds: boolean
  readonly convention: BlockConvention | null
  readonly outputDType: FloatDType
  readonly outputPrediction: PredictionType
  readonly vae: VaeSource | null
  /** canonical key → why a's position ids look damaged */
  readonly damagedPositionIds: ReadonlyMap<string, string>
  /** the deltas of the recipe's LoRA nodes, by key (engine/lora/lora-plan.ts) */
  readonly loraPatches: LoraPatchesOf
  readonly findings: Findings
}

const V_PRED = 'v_pred'

/**
 * Decides every output key: what it is made from (a copy, a merge expression, rebuilt position ids)
 * with which dtype and shape, in output order (a's keys in a's file order, then keys taken from
 * other inputs). Problems are findings, so the summary can show all of them at once.
 */
export function planKeys(ctx: KeyPlanningContext): { keys: PlannedKey[]; counts: KeyCounts } {
  return new KeyPlanner(ctx).run()
}

/** A key's outcome for one subtree: merged, copied (a single model), or left unmerged and why. */
type Resolved =
  | { readonly kind: 'merge'; readonly action: Extract<KeyAction, { kind: 'merge' }>; readonly shape: readonly number[]; readonly inputBytes: number }
  | { readonly kind: 'copy'; readonly tensor: TensorInfo }
  | { readonly kind: 'unmerged'; readonly why: 'missing' | 'shape' | 'integer' }

class KeyPlanner {
  private readonly out: PlannedKey[] = []
  private readonly counts: KeyCounts = { merged: 0, copied: 0, dropped: 0, missing: 0, shapeMismatches: 0 }
  private readonly a: PlanInput
  private readonly includes: RegExp[]
  private readonly excludes: RegExp[]

  constructor(private readonly ctx: KeyPlanningContext) {
    this.a = ctx.inputOf(primaryLeaf(ctx.tree))
    this.includes = ctx.keys.include.map((p) => new RegExp(p))
    this.excludes = ctx.keys.exclude.map((p) => new RegExp(p))
  }

  run(): { keys: PlannedKey[]; counts: KeyCounts } {
    for (const [key, tensor] of this.a.tensors) this.planPrimaryKey(key, tensor)
    this.planKeysOnlyInOthers()
    this.planAddedMarkers()
    return { keys: this.out, counts: this.counts }
  }

  private planPrimaryKey(key: string, tensor: TensorInfo): void {
    const component = componentOf(this.a.detection, tensor.key)
    const choice = this.choiceFor(component)
    if (component === 'markers') return this.planMarker(key, tensor, choice)
    if (choice === 'drop') return this.drop()
    if (!this.included(key)) return this.ctx.keys.excluded === 'drop' ? this.drop() : this.copy(key, tensor)
    if (isPositionIds(key)) return this.planPositionIds(key, tensor)
    if (!isFloatDType(tensor.dtype)) return this.copy(key, tensor)
    if (choice === 'merge') return this.planMerge(key, tensor)
    if ('file' in choice) return this.planFromVaeFile(key, tensor)
    const source = this.inputOfTop(choice.take).tensors.get(key)
    if (source !== undefined) return this.copy(key, source)
    this.ctx.findings.addKey('warning', 'TAKE_MISSING', key, (n) => `input ${choice.take} lacks ${plural(n, 'key')} of a component taken from it: a's are kept`)
    this.copy(key, tensor)
  }

  private planMerge(key: string, tensor: TensorInfo): void {
    const resolved = this.resolveMerge(this.ctx.tree, key, tensor, true)
    if (resolved.kind !== 'unmerged') return this.emit(key, resolved)
    const policy = resolved.why === 'missing' ? this.ctx.keys.missing : resolved.why === 'shape' ? this.ctx.keys.shapeMismatch : 'skip'
    const fallback = this.ctx.keys.fallback
    if (policy === 'fallback' && fallback !== 0) {
      const alternative = this.resolveMerge(this.ctx.tree.inputs[fallback]!, key, undefined, false)
      if (alternative.kind !== 'unmerged') return this.emit(key, alternative)
    }
    this.copy(key, tensor)
  }

  /**
   * The result of `node` for `key`: a merge expression, a copy when `node` is a single model, or
   * unmerged when some input lacks the key, holds it with another shape, or holds an integer
   * tensor (never interpolated). `report` counts and reports those cases (for the main merge only,
   * not for fallbacks). `reference` is a's tensor, whose shape the others must match.
   */
  private resolveMerge(node: TreeNode, key: string, reference: TensorInfo | undefined, report: boolean): Resolved {
    if (node.kind === 'model') {
      const tensor = this.ctx.inputOf(node).tensors.get(key)
      return tensor === undefined ? { kind: 'unmerged', why: 'missing' } : { kind: 'copy', tensor }
    }
    // a LoRA node as the fallback input of keys.missing: its model's tensor without the LoRA would be
    // wrong and a merge expression needs a method at its top, so the key stays a's
    if (node.kind === 'lora') return { kind: 'unmerged', why: 'missing' }
    const leaves = leavesOf(node)
    const tensors = leaves.map((leaf) => this.ctx.inputOf(leaf).tensors.get(key))
    // leavesOf lists the primary model first
    const full = reference ?? tensors[0]
    const lacking = leaves.filter((_, i) => tensors[i] === undefined)
    if (lacking.length > 0 || full === undefined) {
      if (report) this.reportMissing(key, lacking)
      return { kind: 'unmerged', why: 'missing' }
    }
    const present = tensors as TensorInfo[]
    if (present.some((t) => !isFloatDType(t.dtype))) {
      if (report) this.ctx.findings.addKey('info', 'NON_FLOAT_COPIED', key, (n) => `some input holds ${plural(n, 'key')} as integers; integer tensors are never interpolated: a's are kept`)
      return { kind: 'unmerged', why: 'integer' }
    }
    const slice = channelSlice(full, present)
    if (slice === undefined) {
      if (report) this.reportShapeMismatch(key, leaves, present, full)
      return { kind: 'unmerged', why: 'shape' }
    }
    if (slice !== null && report) {
      this.ctx.findings.addKey(
        'info',
        'CHANNEL_SLICE',
        key,
        (n) => `a has ${full.shape[1]} input channels where the other models have ${slice.count} (inpainting / instruct-pix2pix): only the first ${slice.count} channels of ${plural(n, 'key')} are merged, the rest stay a's`,
      )
    }
    const byLeaf = new Map(leaves.map((leaf, i) => [leaf, present[i]!]))
    const locate = (leaf: ModelLeaf): TensorLocator => {
      const t = byLeaf.get(leaf)!
      return slice !== null && sameShape(t.shape, full.shape) ? channelView(t.locator, slice.dim, slice.count) : t.locator
    }
    const expr = buildExpr(node, this.position(key), locate, slice === null ? this.ctx.loraPatches : this.patchesWithoutSlice(key))
    const leafBytes = distinctLeaves(expr).reduce((sum, l) => sum + l.byteLength, 0)
    return {
      kind: 'merge',
      action: { kind: 'merge', expr, slice: slice === null ? null : { ...slice, full: full.locator } },
      shape: full.shape,
      inputBytes: leafBytes + (slice === null ? 0 : full.locator.byteLength),
    }
  }

  /** A channel-sliced key (inpainting a) gets no LoRA delta: the LoRA was made for the full tensor. */
  private patchesWithoutSlice(key: string): LoraPatchesOf {
    return (node, k) => {
      const patches = this.ctx.loraPatches(node, k)
      if (patches.length > 0) {
        this.ctx.findings.addKey('warning', 'LORA_ON_SLICED_KEY', key, (n) => `${node.where}: the LoRA's delta for ${plural(n, 'key')} merged by channel slices (inpainting) is left out`)
      }
      return []
    }
  }

  private reportMissing(key: string, lacking: readonly ModelLeaf[]): void {
    const policy = this.ctx.keys.missing
    this.counts.missing++
    const roles = [...new Set(lacking.map((l) => l.role))].join(', ')
    if (policy === 'error') {
      this.ctx.findings.addKey('blocking', 'MISSING_KEYS', key, (n) => `other inputs lack ${plural(n, 'key')} of a (first: ${roles}); keys.missing is "error"`)
    } else {
      const outcome = policy === 'fallback' && this.ctx.keys.fallback !== 0 ? `taken from input ${this.ctx.keys.fallback} where it has them, else a's` : "a's are kept"
      this.ctx.findings.addKey('warning', 'MISSING_KEYS', key, (n) => `other inputs lack ${plural(n, 'key')} of a (first: ${roles}), so they are not merged: ${outcome}`)
    }
  }

  private reportShapeMismatch(key: string, leaves: readonly ModelLeaf[], tensors: readonly TensorInfo[], full: TensorInfo): void {
    const policy = this.ctx.keys.shapeMismatch
    this.counts.shapeMismatches++
    const odd = tensors.findIndex((t) => !sameShape(t.shape, full.shape))
    const detail = `first: ${leaves[odd]?.role ?? '?'} has ${JSON.stringify(tensors[odd]?.shape)} where a has ${JSON.stringify(full.shape)}`
    if (policy === 'error') {
      this.ctx.findings.addKey('blocking', 'SHAPE_MISMATCH', key, (n) => `the inputs hold ${plural(n, 'key')} with different shapes (${detail}); keys.shapeMismatch is "error"`)
    } else {
      const outcome = policy === 'fallback' && this.ctx.keys.fallback !== 0 ? `taken from input ${this.ctx.keys.fallback}` : "a's are kept"
      this.ctx.findings.addKey('warning', 'SHAPE_MISMATCH', key, (n) => `the inputs hold ${plural(n, 'key')} with different shapes (${detail}), so they are not merged: ${outcome}`)
    }
  }

  private planPositionIds(key: string, tensor: TensorInfo): void {
    const damage = this.ctx.damagedPositionIds.get(key)
    if (this.ctx.resetPositionIds) {
      const length = tensor.shape.reduce((n, d) => n * d, 1)
      this.counts.copied++
      this.out.push({ key: tensor.key, dtype: 'I64', shape: tensor.shape, action: { kind: 'position_ids', length }, block: null, inputBytes: 0 })
      return
    }
    if (damage !== undefined) {
      this.ctx.findings.addKey('warning', 'POSITION_IDS_DAMAGED', key, () => `a's CLIP position ids look damaged (${damage}); they are copied as they are: set options.resetPositionIds to rewrite them as 0..n-1`)
    }
    // never merged, and copied in their own dtype: converting damaged float ids would hide the damage
    this.push(tensor.key, tensor.dtype, tensor.shape, { kind: 'copy', source: tensor.locator }, null, tensor.locator.byteLength)
    this.counts.copied++
  }

  private planFromVaeFile(key: string, tensor: TensorInfo): void {
    const source = this.ctx.vae?.tensorFor(tensor.key)
    if (source === undefined) {
      this.ctx.findings.addKey('blocking', 'VAE_FILE_MISSING', key, (n) => `the VAE file has no tensor for ${plural(n, 'VAE key')} of a`)
    } else if (!sameShape(source.shape, tensor.shape)) {
      this.ctx.findings.addKey(
        'blocking',
        'VAE_FILE_SHAPE',
        key,
        (n) => `the VAE file holds ${plural(n, 'tensor')} with other shapes than a's VAE (first: ${JSON.stringify(source.shape)} vs ${JSON.stringify(tensor.shape)}): is it a VAE for this architecture?`,
      )
    }
    this.copy(key, source ?? tensor)
  }

  /**
   * Prediction-type marker keys (v_pred, ztsnr, edm_vpred.*) are never interpolated. By default they
   * follow the output's prediction type: kept for a v-prediction output, removed otherwise.
   */
  private planMarker(key: string, tensor: TensorInfo, choice: ComponentChoice): void {
    if (choice === 'drop') return this.drop()
    if (typeof choice === 'object' && 'take' in choice) {
      const source = this.inputOfTop(choice.take).tensors.get(key)
      return source === undefined ? this.drop() : this.copyMarker(source)
    }
    if (this.ctx.outputPrediction === 'v') return this.copyMarker(tensor)
    this.ctx.findings.addKey('info', 'MARKERS_REMOVED', key, () => `a's v-prediction marker keys are left out: the output is ${this.ctx.outputPrediction}`)
    this.drop()
  }

  /** Markers of v-prediction inputs a lacks, and v_pred itself, for a v-prediction output whose markers follow the prediction type. */
  private planAddedMarkers(): void {
    if (this.ctx.outputPrediction !== 'v' || this.choiceFor('markers') !== 'merge') return
    const present = new Set(this.out.map((k) => k.key))
    for (const leaf of leavesOf(this.ctx.tree)) {
      const input = this.ctx.inputOf(leaf)
      if (input.detection.predictionType !== 'v') continue
      for (const [key, tensor] of input.tensors) {
        if (componentOf(input.detection, tensor.key) !== 'markers' || present.has(key)) continue
        present.add(key)
        this.copyMarker(tensor)
      }
    }
    if (present.has(V_PRED)) return
    // ComfyUI's marker is an empty float32 tensor: zero bytes, so a zero-length read of a's file yields it
    const empty: TensorLocator = { path: this.a.path, key: V_PRED, dtype: 'F32', shape: [0], offset: 0, byteLength: 0 }
    this.push(V_PRED, 'F32', [0], { kind: 'copy', source: empty }, null, 0)
    this.counts.copied++
    this.ctx.findings.add('info', 'MARKER_ADDED', 'the output is marked as v-prediction with a v_pred key (as ComfyUI writes it)')
  }

  private copyMarker(tensor: TensorInfo): void {
    this.push(tensor.key, tensor.dtype, tensor.shape, { kind: 'copy', source: tensor.locator }, null, tensor.locator.byteLength)
    this.counts.copied++
  }

  /**
   * Keys a lacks: the result keeps a's key set (METHODS.md §1.7: a key is merged only when every
   * input has it; otherwise the primary's is kept, and the primary has none). They are taken in
   * only from an input the recipe names for them: a component taken from that input, or the
   * fallback input of keys.missing = "fallback".
   */
  private planKeysOnlyInOthers(): void {
    const seen = new Set(this.a.tensors.keys())
    const left: { key: string; role: string }[] = []
    for (const leaf of leavesOf(this.ctx.tree)) {
      const input = this.ctx.inputOf(leaf)
      for (const [key, tensor] of input.tensors) {
        if (seen.has(key)) continue
        seen.add(key)
        const component = componentOf(input.detection, tensor.key)
        const choice = this.choiceFor(component)
        if (component === 'markers' || choice === 'drop' || !this.included(key)) continue
        const source = this.sourceForExtraKey(key, choice)
        if (source !== undefined) {
          this.copy(key, source, styledKey(this.a.detection, key))
        } else if (this.ctx.keys.missing === 'error' && choice === 'merge') {
          this.ctx.findings.addKey('blocking', 'MISSING_IN_A', key, (n) => `a lacks ${plural(n, 'key')} of ${leaf.role}; keys.missing is "error"`)
        } else {
          left.push({ key, role: leaf.role })
        }
      }
    }
    for (const { key, role } of left) {
      this.ctx.findings.addKey('info', 'ONLY_IN_OTHERS', key, (n) => `other inputs have ${plural(n, 'key')} a lacks (first: ${role}); left out, as the result has a's keys`)
    }
  }

  private sourceForExtraKey(key: string, choice: ComponentChoice): TensorInfo | undefined {
    if (typeof choice === 'object' && 'take' in choice) return this.inputOfTop(choice.take).tensors.get(key)
    if (choice === 'merge' && this.ctx.keys.missing === 'fallback' && this.ctx.keys.fallback !== 0) return this.inputOfTop(this.ctx.keys.fallback).tensors.get(key)
    return undefined
  }

  private choiceFor(component: ComponentId): ComponentChoice {
    // a component a's architecture does not list (a stray EMA key in a file of another kind) follows the defaults of its kind
    return this.ctx.components.get(component) ?? (component === 'ema' || component === 'leftovers' ? 'drop' : 'merge')
  }

  /** The primary model of top-level input `index` (a component "taken from" a nested merge comes from its primary model). */
  private inputOfTop(index: number): PlanInput {
    return this.ctx.inputOf(primaryLeaf(this.ctx.tree.inputs[index]!))
  }

  private included(key: string): boolean {
    if (this.includes.length > 0 && !this.includes.some((re) => re.test(key))) return false
    return !this.excludes.some((re) => re.test(key))
  }

  private position(key: string): KeyPosition {
    const convention = this.ctx.convention
    if (convention === null) return { key, block: null, t: null }
    const assignment = convention.blockOf(key)
    const block = 'block' in assignment ? assignment.block : 'unmatched' in assignment ? assignment.fallback : null
    return { key, block, t: block === null ? null : blockPosition(convention, block) }
  }

  private emit(key: string, resolved: Exclude<Resolved, { kind: 'unmerged' }>): void {
    if (resolved.kind === 'copy') return this.copy(key, resolved.tensor)
    this.counts.merged++
    this.push(this.a.tensors.get(key)!.key, this.ctx.outputDType, resolved.shape, resolved.action, this.position(key).block, resolved.inputBytes)
  }

  /** A copy: float tensors in the output dtype, integer tensors as they are. Named as a names it, or `name` for keys a lacks. */
  private copy(key: string, source: TensorInfo, name?: string): void {
    const dtype = isFloatDType(source.dtype) ? this.ctx.outputDType : source.dtype
    this.push(name ?? this.a.tensors.get(key)?.key ?? key, dtype, source.shape, { kind: 'copy', source: source.locator }, this.position(key).block, source.locator.byteLength)
    this.counts.copied++
  }

  private drop(): void {
    this.counts.dropped++
  }

  private push(key: string, dtype: DType, shape: readonly number[], action: KeyAction, block: string | null, inputBytes: number): void {
    this.out.push({ key, dtype, shape, action, block, inputBytes })
  }
}

/**
 * How the inputs' shapes of one key line up: null when they are all a's; a channel slice when a
 * has more channels in dimension 1 than the others and they agree otherwise (an inpainting or
 * instruct-pix2pix model a meeting normal models: only the first channels are merged);
 * undefined when they do not line up.
 */
function channelSlice(full: TensorInfo, tensors: readonly TensorInfo[]): Omit<ChannelSlice, 'full'> | null | undefined {
  if (tensors.every((t) => sameShape(t.shape, full.shape))) return null
  const channels = full.shape[1]
  if (full.shape.length < 2 || channels === undefined) return undefined
  let count: number | null = null
  for (const t of tensors) {
    if (sameShape(t.shape, full.shape)) continue
    const c = t.shape[1]
    const fits = t.shape.length === full.shape.length && c !== undefined && c < channels && t.shape.every((d, i) => i === 1 || d === full.shape[i])
    if (!fits || (count !== null && c !== count)) return undefined
    count = c
  }
  return count === null ? null : { dim: 1, count }
}
