import { lstat, statfs } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { dirname, extname, resolve } from 'node:path'
import type { PlannedInput, PlanSummary } from '../../common/plan-summary'
import type { ComponentChoice, PredictionType, Recipe } from '../../common/recipe'
import { defaultConvention, getConvention, type BlockConvention } from '../arch/blocks'
import { componentOf, type ComponentId } from '../arch/components'
import { alignment } from '../arch/keys'
import { AmalgamError, describeError, isAmalgamError } from '../errors'
import type { OutputDType } from '../formats/dtype'
import { refuseInputAsOutput } from '../formats/safetensors/writer'
import { TensorReader } from '../formats/tensor-reader'
import { buildOutputMetadata } from '../lineage/metadata'
import { planLoraPatches, refuseLoraAsOutput } from '../lora/lora-plan'
import { folderDiskBytes, isFolderOutput, planFolderOutput } from '../llm/folder-output-plan'
import { planLayerSlices } from '../llm/layer-slices'
import { prepareLlmMerge } from '../llm/llm-inputs'
import { checkParamBlocks } from './key-params'
import { resolveComponents } from './component-choices'
import { estimate } from './estimates'
import { distinctLeaves } from './expressions'
import { Findings, plural } from './findings'
import { formatBytes } from './format'
import { taskLayout } from './output-layout'
import { openPlanInput, withEmaWeights, type PlanInput } from './plan-inputs'
import { planKeys, type PlannedKey } from './plan-keys'
import { chooseOutputDType } from './output-dtype'
import { isPositionIds, positionIdsDamage } from './position-ids'
import { leavesOf, primaryLeaf, resolveTree, toMergeNode, type MethodNode, type ModelLeaf } from './recipe-tree'
import type { Plan, PlannedInputFile } from './types'
import { VaeSource } from './vae-file'

export interface PlanOptions {
  /** folder relative paths in the recipe are resolved against (the recipe file's folder); default: the working directory */
  readonly cwd?: string
  /** replace an existing output file (an input is never replaced) */
  readonly overwrite?: boolean
  /** worker threads the merge will use, for the memory and time estimates; default: up to two */
  readonly threads?: number
  /** the compute backend preference (AMALGAM_BACKEND), shown in the summary */
  readonly backend?: string
  readonly signal?: AbortSignal
}

/**
 * Plans a merge before any byte is written: checks the recipe against its inputs, decides every
 * output key (method, parameters and block per key; copies; policies), lays out the output file,
 * and sums it up with findings in plain words. Recipe and file errors (a missing file, an unknown
 * method, models of different architectures) are thrown as AmalgamErrors; problems with the merge
 * itself are blocking findings, and `plan.summary.ok` is false when there is one.
 */
export async function planRecipe(recipe: Recipe, opts: PlanOptions = {}): Promise<Plan> {
  const baseDir = resolve(opts.cwd ?? process.cwd())
  const findings = new Findings()
  const tree = resolveTree(recipe.merge, baseDir)
  const outputPath = resolve(baseDir, recipe.output.path)
  checkRecipeShape(recipe, tree, outputPath)
  cancelled(opts.signal)

  const leaves = leavesOf(tree)
  const opened = await openInputs(leaves)
  const vaeChoice = recipe.components.vae
  const vaePath = typeof vaeChoice === 'object' && 'file' in vaeChoice ? resolve(baseDir, vaeChoice.file) : null
  const vae = vaePath === null ? null : new VaeSource(await openPlanInput(vaePath, 'components.vae.file'))
  cancelled(opts.signal)

  const aLeaf = primaryLeaf(tree)
  const a = opened.get(aLeaf.path)!
  checkArchitectures(aLeaf, a, leaves, opened)
  const convention = conventionFor(recipe, a)
  checkParamBlocks(tree, convention, a.detection.architecture)
  const components = resolveComponents(recipe.components, a.detection, tree.inputs.length)
  if (vaePath !== null) {
    components.set('vae', { file: vaePath })
    if (!a.detection.components.some((c) => c.id === 'vae')) {
      findings.add('blocking', 'NO_VAE_IN_A', `components.vae.file: a (${a.path}) has no VAE for the file to replace; Amalgam bakes a VAE in only where a has one`)
    }
  }
  const outputPrediction = checkPredictions(recipe, aLeaf, leaves, opened, findings)
  const dtype = chooseOutputDType(recipe.output.dtype, a.checkpoint)
  if (dtype.reason !== null) findings.add('info', 'OUTPUT_DTYPE', dtype.reason)
  if (dtype.dtype === 'F8_E4M3' || dtype.dtype === 'F8_E5M2') {
    findings.add('warning', 'FP8_OUTPUT', 'fp8 output keeps 8 bits per weight with no scales: expect a visible loss of quality')
  }
  const inputs = withEmaIfAsked(recipe, opened, findings)
  noteInputs(leaves, opened, findings)
  const loraPatches = await planLoraPatches(tree, (leaf) => inputs.get(leaf.path)!, findings)
  cancelled(opts.signal)
  const slices = await planLayerSlices(recipe, tree, a, baseDir, opened, dtype.dtype, findings)
  for (const [path, input] of slices?.inputs ?? []) if (!opened.has(path)) opened.set(path, input)
  const llm = await prepareLlmMerge({ recipe, tree, aLeaf, leaves, inputs, findings })

  const { keys: plannedKeys, counts: keyCounts } = planKeys({
    tree,
    inputOf: (leaf) => inputs.get(leaf.path)!,
    components,
    keys: recipe.keys,
    resetPositionIds: recipe.options.resetPositionIds,
    convention,
    outputDType: dtype.dtype,
    outputPrediction,
    vae,
    damagedPositionIds: damagedPositionIds(a),
    loraPatches,
    findings,
  })
  const llmKeys = llm.finish(plannedKeys)
  const keys = slices === null ? llmKeys : slices.finish(llmKeys)
  // a frankenmerge's layers are copies the key planner never saw
  const counts = slices === null ? keyCounts : { ...keyCounts, merged: keys.filter((k) => k.action.kind === 'merge').length, copied: keys.filter((k) => k.action.kind === 'copy').length }
  reportUnsupported(keys, findings)

  const canonical = { ...canonicalRecipe(recipe, tree, convention, components, outputPrediction, outputPath, dtype.name), ...(slices === null ? {} : { slices: [...slices.slices] }) }
  const plannedInputs = [...plannedInputFiles(leaves, opened, vae?.input ?? null), ...(slices?.extraFiles ?? [])]
  const hashedInputs = withShards(plannedInputs, opened)
  const folder = isFolderOutput(outputPath)
    ? await planFolderOutput({ recipe: canonical, outputPath, a, vocabularySource: llm.vocabularySource, dtype: dtype.name, inputs: plannedInputs, layers: slices?.layers })
    : undefined
  const { metadata, reserveMetadataBytes } = buildOutputMetadata({
    recipe: canonical,
    inputs: hashedInputs,
    architecture: a.detection.architecture,
    predictionType: outputPrediction,
    variant: a.detection.variant,
    layout: a.detection.layout,
  })
  const { tasks, totalBytes } = taskLayout(keys, metadata, reserveMetadataBytes)
  const diskBytes = folder === undefined ? totalBytes : folderDiskBytes(folder, tasks, totalBytes, findings)
  const freeDiskBytes = await checkOutput(outputPath, diskBytes, [...plannedInputs, ...hashedInputs], opts.overwrite ?? false, findings, folder !== undefined)
  await refuseLoraAsOutput(outputPath, tree, findings)
  const threads = opts.threads ?? Math.min(2, availableParallelism())
  const { peakBytes, seconds } = estimate(keys, { inputBytesToHash: distinctBytes(plannedInputs), outputBytes: totalBytes, threads })
  cancelled(opts.signal)

  const all = findings.all()
  const files = new Map(opened)
  if (vae !== null) files.set(vae.input.path, vae.input)
  const summary: PlanSummary = {
    architecture: a.detection.architecture,
    blockConvention: convention === null ? { name: 'none', version: '' } : { name: convention.name, version: convention.version },
    inputs: plannedInputs.map((input): PlannedInput => ({
      role: input.role,
      path: input.path,
      architecture: describeArchitecture(files.get(input.path)!),
      predictionType: files.get(input.path)!.detection.predictionType,
      size: input.size,
    })),
    counts: { keys: tasks.length, ...counts },
    outputPath,
    outputDType: dtype.name,
    outputBytes: totalBytes,
    freeDiskBytes,
    estimatedPeakBytes: peakBytes,
    estimatedSeconds: seconds,
    backend: opts.backend ?? process.env.AMALGAM_BACKEND ?? 'auto',
    findings: all,
    ok: !all.some((f) => f.severity === 'blocking'),
  }
  return {
    recipe: canonical,
    summary,
    output: {
      path: outputPath,
      metadata,
      reserveMetadataBytes,
      overwrite: opts.overwrite ?? false,
      // A1111 needs the config beside a v-prediction SD2 file; it is only right when the prediction type is kept
      sidecarYaml: a.sidecarYaml !== null && outputPrediction === a.detection.predictionType ? a.sidecarYaml : null,
      ...(folder === undefined ? {} : { folder }),
    },
    tasks,
    seed: canonical.seed,
    inputs: hashedInputs,
  }
}

/**
 * The pre-flight summary for a recipe, never throwing for the user's mistakes: a recipe or file
 * error becomes the one blocking finding of an otherwise empty summary.
 */
export async function previewRecipe(recipe: Recipe, opts: PlanOptions = {}): Promise<PlanSummary> {
  try {
    return (await planRecipe(recipe, opts)).summary
  } catch (err) {
    if (!isAmalgamError(err) || err.code === 'INTERNAL') throw err
    return {
      architecture: 'unknown',
      blockConvention: { name: 'none', version: '' },
      inputs: [],
      counts: { keys: 0, merged: 0, copied: 0, dropped: 0, missing: 0, shapeMismatches: 0 },
      outputPath: resolve(opts.cwd ?? process.cwd(), recipe.output.path),
      outputDType: recipe.output.dtype,
      outputBytes: 0,
      freeDiskBytes: null,
      estimatedPeakBytes: 0,
      estimatedSeconds: 0,
      backend: opts.backend ?? process.env.AMALGAM_BACKEND ?? 'auto',
      findings: [{ severity: 'blocking', code: err.code, message: describeError(err) }],
      ok: false,
    }
  }
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AmalgamError('CANCELLED', 'the merge was cancelled before it started')
}

function checkRecipeShape(recipe: Recipe, tree: MethodNode, outputPath: string): void {
  const ext = extname(outputPath).toLowerCase()
  if (ext !== '.safetensors' && ext !== '') {
    throw new AmalgamError('BAD_RECIPE', `output.path: ${outputPath}: Amalgam writes safetensors files (name the output *.safetensors) or, for language models, Hugging Face folders (a name without extension)`)
  }
  if (recipe.keys.fallback >= tree.inputs.length) {
    throw new AmalgamError('BAD_RECIPE', `keys.fallback: there is no input ${recipe.keys.fallback} (the merge has ${tree.inputs.length} inputs, 0 = a)`)
  }
  for (const field of ['include', 'exclude'] as const) {
    recipe.keys[field].forEach((pattern, i) => {
      try {
        new RegExp(pattern)
      } catch (err) {
        throw new AmalgamError('BAD_RECIPE', `keys.${field}[${i}]: invalid regular expression ${JSON.stringify(pattern)} (${(err as Error).message})`)
      }
    })
  }
}

/** Every distinct input file, opened once; a problem names the first recipe path that uses the file. */
async function openInputs(leaves: readonly ModelLeaf[]): Promise<Map<string, PlanInput>> {
  const firstUse = new Map<string, ModelLeaf>()
  for (const leaf of leaves) if (!firstUse.has(leaf.path)) firstUse.set(leaf.path, leaf)
  const opened = await Promise.all([...firstUse.values()].map((leaf) => openPlanInput(leaf.path, leaf.where)))
  return new Map(opened.map((input) => [input.path, input]))
}

function checkArchitectures(aLeaf: ModelLeaf, a: PlanInput, leaves: readonly ModelLeaf[], opened: ReadonlyMap<string, PlanInput>): void {
  if (a.detection.architecture === 'lora') {
    throw new AmalgamError('INCOMPATIBLE_MODELS', `${aLeaf.where}: ${a.path} is a LoRA; it adapts a checkpoint and cannot be merged as one`)
  }
  for (const leaf of leaves) {
    const input = opened.get(leaf.path)!
    if (input === a) continue
    const { architecture, variant } = input.detection
    const differs = architecture !== a.detection.architecture || (architecture === 'component' && variant !== a.detection.variant)
    if (differs) {
      throw new AmalgamError(
        'INCOMPATIBLE_MODELS',
        `${leaf.where}: the models are of different architectures: a (${a.path}) is ${describeArchitecture(a)}, ${leaf.role} (${input.path}) is ${describeArchitecture(input)}`,
      )
    }
    const aligned = alignment(a.detection, input.detection)
    if (!aligned.alignable) throw new AmalgamError('INCOMPATIBLE_MODELS', `${leaf.where}: ${input.path}: ${aligned.reason}`)
  }
}

function describeArchitecture(input: PlanInput): string {
  const { architecture, variant } = input.detection
  return variant === null ? architecture : `${architecture} (${variant})`
}

/** The recipe's block convention, or the architecture's default at its current version; null for architectures without conventions. */
function conventionFor(recipe: Recipe, a: PlanInput): BlockConvention | null {
  const { architecture, depth } = a.detection
  try {
    if (recipe.blocks !== undefined) return getConvention(architecture, recipe.blocks.name, recipe.blocks.version, depth)
    return defaultConvention(architecture) === null ? null : getConvention(architecture, undefined, undefined, depth)
  } catch (err) {
    if (isAmalgamError(err)) throw new AmalgamError('BAD_RECIPE', `blocks: ${err.message}`)
    throw err
  }
}

/**
 * Refuses (a blocking finding) inputs that predict different things (v with eps, flow with eps)
 * unless the recipe allows it; returns the prediction type the output is marked with.
 */
function checkPredictions(recipe: Recipe, aLeaf: ModelLeaf, leaves: readonly ModelLeaf[], opened: ReadonlyMap<string, PlanInput>, findings: Findings): PredictionType {
  const a = opened.get(aLeaf.path)!.detection
  for (const leaf of leaves) {
    const other = opened.get(leaf.path)!.detection
    if (a.predictionType === 'unknown' || other.predictionType === 'unknown' || other.predictionType === a.predictionType) continue
    const what = `a predicts ${a.predictionType} (${a.predictionSource ?? '?'}) but ${leaf.role} predicts ${other.predictionType} (${other.predictionSource ?? '?'})`
    if (recipe.options.allowPredictionMismatch) {
      findings.add('warning', 'PREDICTION_MISMATCH', `${what}; merged anyway (options.allowPredictionMismatch): the result may produce washed-out or noisy images`)
    } else {
      findings.add('blocking', 'PREDICTION_MISMATCH', `${what}; merging them usually gives broken images. Set options.allowPredictionMismatch to merge anyway`)
    }
    break
  }
  return recipe.options.predictionType ?? a.predictionType
}

/** The inputs as the keys see them: with options.useEma, each file's UNet tensors replaced by its EMA weights. */
function withEmaIfAsked(recipe: Recipe, opened: ReadonlyMap<string, PlanInput>, findings: Findings): Map<string, PlanInput> {
  if (!recipe.options.useEma) return new Map(opened)
  const inputs = new Map<string, PlanInput>()
  const swapped: string[] = []
  for (const [path, input] of opened) {
    const ema = withEmaWeights(input, (key) => componentOf(input.detection, key) === 'unet')
    if (ema !== null) swapped.push(path)
    inputs.set(path, ema ?? input)
  }
  if (swapped.length === 0) findings.add('warning', 'NO_EMA', 'options.useEma is set, but no input carries EMA weights (model_ema.*): the normal weights are used')
  else findings.add('info', 'EMA_USED', `the UNet weights of ${swapped.join(', ')} are their EMA weights (options.useEma)`)
  return inputs
}

/** What the reader and detection noticed about each input (dequantised fp8, unusual shapes, ...). */
function noteInputs(leaves: readonly ModelLeaf[], opened: ReadonlyMap<string, PlanInput>, findings: Findings): void {
  const seen = new Set<string>()
  for (const leaf of leaves) {
    if (seen.has(leaf.path)) continue
    seen.add(leaf.path)
    const input = opened.get(leaf.path)!
    for (const note of [...input.checkpoint.notes, ...input.detection.notes]) findings.add('info', 'INPUT_NOTE', `${leaf.role} (${input.path}): ${note}`)
    if (input.detection.architecture === 'unknown') {
      findings.add('warning', 'UNKNOWN_ARCHITECTURE', `${leaf.role} (${input.path}) is not a model Amalgam recognises: keys are merged by name, without blocks or components`)
    }
  }
}

/** a's position ids that look damaged, by canonical key (read now: they are a few hundred bytes). */
function damagedPositionIds(a: PlanInput): Map<string, string> {
  const damaged = new Map<string, string>()
  const reader = new TensorReader()
  try {
    for (const [key, tensor] of a.tensors) {
      if (!isPositionIds(key) || tensor.locator.unsupportedDtype !== undefined) continue
      const damage = positionIdsDamage(tensor, reader)
      if (damage !== null) damaged.set(key, damage)
    }
  } finally {
    reader.close()
  }
  return damaged
}

function reportUnsupported(keys: readonly PlannedKey[], findings: Findings): void {
  for (const key of keys) {
    const action = key.action
    const locators = action.kind === 'copy' ? [action.source] : action.kind === 'merge' ? distinctLeaves(action.expr) : []
    const bad = locators.find((l) => l.unsupportedDtype !== undefined)
    if (bad !== undefined) {
      findings.addKey('blocking', 'UNSUPPORTED_DTYPE', key.key, (n) => `${bad.path} stores ${plural(n, 'tensor')} as ${bad.unsupportedDtype}, which Amalgam cannot compute on or convert`)
    }
  }
}

/**
 * The recipe as it will be run and embedded: method ids with explicit parameters, absolute paths,
 * the block convention pinned, every component's choice, the output's dtype and prediction type
 * written out. Running it again means the same merge, whatever defaults a later version has.
 */
function canonicalRecipe(
  recipe: Recipe,
  tree: MethodNode,
  convention: BlockConvention | null,
  components: ReadonlyMap<ComponentId, ComponentChoice>,
  prediction: PredictionType,
  outputPath: string,
  dtype: OutputDType,
): Recipe {
  const { blocks: _given, ...rest } = recipe
  return {
    ...rest,
    merge: toMergeNode(tree),
    ...(convention === null ? {} : { blocks: { name: convention.name, version: convention.version } }),
    components: Object.fromEntries(components),
    options: { ...recipe.options, ...(prediction === 'unknown' ? {} : { predictionType: prediction }) },
    output: { ...recipe.output, path: outputPath, dtype },
  }
}

function plannedInputFiles(leaves: readonly ModelLeaf[], opened: ReadonlyMap<string, PlanInput>, vae: PlanInput | null): PlannedInputFile[] {
  const file = (role: string, input: PlanInput): PlannedInputFile => ({
    role,
    path: input.path,
    size: input.size,
    mtimeMs: input.mtimeMs,
    architecture: input.detection.architecture,
    metadata: input.checkpoint.metadata,
    dataStart: input.checkpoint.dataStart ?? null,
  })
  return [...leaves.map((leaf) => file(leaf.role, opened.get(leaf.path)!)), ...(vae === null ? [] : [file('vae', vae)])]
}

/**
 * The files to hash and check before running: a Hugging Face folder input is its weight files, each
 * with the folder's role (the lineage records every shard's hash).
 */
function withShards(inputs: readonly PlannedInputFile[], opened: ReadonlyMap<string, PlanInput>): PlannedInputFile[] {
  return inputs.flatMap((input) => {
    const shards = opened.get(input.path)?.hfFolder?.shards
    if (shards === undefined) return [input]
    return shards.map((shard) => ({ ...input, path: shard.path, size: shard.size, mtimeMs: shard.mtimeMs, metadata: shard.metadata, dataStart: shard.dataStart }))
  })
}

function distinctBytes(inputs: readonly PlannedInputFile[]): number {
  return [...new Map(inputs.map((i) => [i.path, i.size])).values()].reduce((sum, n) => sum + n, 0)
}

/** Output problems as blocking findings: it is an input, it exists, its folder is missing, the disk is too full. Returns the free bytes. */
async function checkOutput(path: string, bytes: number, inputs: readonly PlannedInputFile[], overwrite: boolean, findings: Findings, folderOutput: boolean): Promise<number | null> {
  try {
    await refuseInputAsOutput(path, inputs.map((i) => i.path))
    const existing = await lstat(path).catch(() => null)
    if (existing?.isDirectory() && !folderOutput) findings.add('blocking', 'OUTPUT_EXISTS', `output.path: ${path} is a folder`)
    else if (existing !== null && !overwrite) findings.add('blocking', 'OUTPUT_EXISTS', `output.path: ${path} already exists (allow overwriting to replace it)`)
  } catch (err) {
    if (!isAmalgamError(err, 'OUTPUT_IS_INPUT')) throw err
    findings.add('blocking', 'OUTPUT_IS_INPUT', `output.path: ${err.message}`)
  }
  const folder = dirname(path)
  let free: number
  try {
    const fs = await statfs(folder)
    free = fs.bavail * fs.bsize
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    findings.add('blocking', 'OUTPUT_FOLDER', `output.path: ${missing ? `the folder ${folder} does not exist` : `cannot check the folder ${folder}: ${describeError(err)}`}`)
    return null
  }
  // a replaced file is only removed by the final rename, so the new one needs its full size
  if (free < bytes) {
    findings.add('blocking', 'DISK_SPACE', `output.path: the output needs ${formatBytes(bytes)} but ${folder} has ${formatBytes(free)} free`)
  }
  return free
}
