import { basename } from 'node:path'
import type { Tf } from '../compute/backend'
import { deriveRng } from '../compute/rng'
import { AmalgamError } from '../errors'
import { numelOf } from '../formats/dtype'
import { openCheckpoint } from '../formats/open'
import { TensorReader } from '../formats/tensor-reader'
import { lowRankFactors } from './extract-factors'
import { kohyaNetworkMetadata, writeKohyaLora, type FactoredModule, type LoraDType } from './extract-output'
import { loraDelta } from './lora-delta'
import { readLoraFile, type LoraFile, type LoraModule } from './lora-file'

export interface MergeLorasOptions {
  readonly inputs: readonly { readonly path: string; readonly weight: number }[]
  readonly out: string
  readonly rank: number
  /** rank of modules with kernels larger than 1x1 */
  readonly convRank: number
  /** stored alpha; null = each module's rank (scale 1) */
  readonly alpha: number | null
  readonly dtype: LoraDType
  readonly overwrite: boolean
}

export type MergeLorasEvent =
  | { readonly type: 'start'; readonly modules: number; readonly backend: string }
  | { readonly type: 'module'; readonly index: number; readonly modules: number; readonly name: string }
  | { readonly type: 'done'; readonly path: string; readonly written: number; readonly seconds: number }

export interface MergeLorasResult {
  readonly path: string
  readonly written: readonly string[]
  /** modules of the inputs left out, with why (LoHa / LoKr, DoRA, Tucker, unknown tensors) */
  readonly leftOut: readonly { readonly file: string; readonly module: string; readonly why: string }[]
  readonly seconds: number
}

export const MERGE_LINEAGE_KEY = 'amalgam.lora_merge'

interface Contribution {
  readonly module: LoraModule & { readonly factors: { readonly type: 'lora' } }
  readonly weight: number
  readonly file: string
}

/**
 * Merges LoRAs: per module (by kohya name), Σ weightᵢ · scaleᵢ · upᵢ·downᵢ over the inputs that have
 * it (a module of only some inputs keeps its weight), re-factored to the chosen rank by randomized
 * SVD. Only LoRA / LoCon modules take part: a LoHa or LoKr file does not record the conv kernel
 * shape of its layers, so their deltas cannot be laid out as kohya factors without the model.
 */
export async function mergeLoras(tf: Tf, backend: string, options: MergeLorasOptions, onEvent: (event: MergeLorasEvent) => void = () => undefined): Promise<MergeLorasResult> {
  checkOptions(options)
  const started = Date.now()
  const reader = new TensorReader()
  try {
    const files: LoraFile[] = []
    for (const input of options.inputs) {
      const file = readLoraFile(await openCheckpoint(input.path), reader)
      if (file.modules.length === 0) throw new AmalgamError('UNSUPPORTED_FORMAT', `--input ${input.path}: holds no LoRA, LoCon, LoHa or LoKr module Amalgam can read`)
      files.push(file)
    }
    const { groups, leftOut } = groupModules(files, options.inputs.map((i) => i.weight))
    if (groups.size === 0) throw new AmalgamError('UNSUPPORTED_FORMAT', `none of the inputs has a LoRA / LoCon module to merge (first left out: ${leftOut[0]?.module ?? 'none'})`)
    onEvent({ type: 'start', modules: groups.size, backend })
    const modules: FactoredModule[] = []
    for (const [index, [name, contributions]] of [...groups].entries()) {
      modules.push(mergeModule(tf, reader, name, contributions, options))
      onEvent({ type: 'module', index, modules: groups.size, name })
      await new Promise((resolve) => setImmediate(resolve))
    }
    const metadata = {
      ...kohyaNetworkMetadata({ rank: options.rank, alpha: options.alpha ?? options.rank, convRank: options.convRank, convAlpha: options.alpha ?? options.convRank, baseModelVersion: commonValue(files, 'ss_base_model_version') }),
      ss_output_name: basename(options.out).replace(/\.safetensors$/, ''),
      [MERGE_LINEAGE_KEY]: JSON.stringify({
        inputs: options.inputs.map((i) => ({ file: basename(i.path), weight: i.weight })),
        rank: options.rank,
        convRank: options.convRank,
        alpha: options.alpha,
      }),
    }
    await writeKohyaLora(options.out, modules, options.dtype, metadata, { overwrite: options.overwrite, inputs: options.inputs.map((i) => i.path) })
    const seconds = (Date.now() - started) / 1000
    onEvent({ type: 'done', path: options.out, written: modules.length, seconds })
    return { path: options.out, written: modules.map((m) => m.name), leftOut, seconds }
  } finally {
    reader.close()
  }
}

function checkOptions(options: MergeLorasOptions): void {
  if (options.inputs.length === 0) throw new AmalgamError('BAD_ARGUMENT', 'no --input LoRA to merge')
  for (const input of options.inputs) {
    if (!Number.isFinite(input.weight)) throw new AmalgamError('BAD_ARGUMENT', `--weight of ${input.path} must be a number, got ${input.weight}`)
  }
  for (const [value, name] of [[options.rank, '--rank'], [options.convRank, '--conv-rank']] as const) {
    if (!(Number.isInteger(value) && value >= 1)) throw new AmalgamError('BAD_ARGUMENT', `${name} must be a whole number of at least 1, got ${value}`)
  }
  if (options.alpha !== null && !(options.alpha > 0 && Number.isFinite(options.alpha))) throw new AmalgamError('BAD_ARGUMENT', `--alpha must be a positive number, got ${options.alpha}`)
}

function groupModules(files: readonly LoraFile[], weights: readonly number[]): { groups: Map<string, Contribution[]>; leftOut: MergeLorasResult['leftOut'] } {
  const groups = new Map<string, Contribution[]>()
  const leftOut: { file: string; module: string; why: string }[] = []
  files.forEach((file, i) => {
    for (const module of file.unsupported) leftOut.push({ file: file.path, module, why: 'DoRA, Tucker factors or unknown tensors' })
    for (const module of file.modules) {
      if (!isLora(module)) {
        leftOut.push({ file: file.path, module: module.fileName, why: `${module.factors.type} modules are not merged (their files do not always record the conv kernel shape)` })
        continue
      }
      const contribution = { module, weight: weights[i] ?? 1, file: file.path }
      const list = groups.get(module.name)
      if (list === undefined) groups.set(module.name, [contribution])
      else list.push(contribution)
    }
  })
  return { groups, leftOut }
}

function isLora(module: LoraModule): module is Contribution['module'] {
  return module.factors.type === 'lora'
}

/** The adapted weight's shape from LoRA factors: [out, …down's shape after the rank]. */
function weightShapeOf(module: Contribution['module']): number[] {
  return [module.factors.up.shape[0] ?? 0, ...module.factors.down.shape.slice(1)]
}

function mergeModule(tf: Tf, reader: TensorReader, name: string, contributions: readonly Contribution[], options: MergeLorasOptions): FactoredModule {
  const first = contributions[0]
  if (first === undefined) throw new AmalgamError('INTERNAL', `LoRA module ${name} has no contribution`)
  const weightShape = weightShapeOf(first.module)
  for (const c of contributions) {
    const shape = weightShapeOf(c.module)
    if (shape.join() !== weightShape.join()) {
      throw new AmalgamError('SHAPE_MISMATCH', `LoRA module ${name} adapts a ${JSON.stringify(shape)} layer in ${c.file} but a ${JSON.stringify(weightShape)} layer in ${first.file}: LoRAs for different models cannot be merged`)
    }
  }
  const [rows = 0, ...innerShape] = weightShape
  const inner = numelOf(innerShape)
  const kernel = innerShape.length === 3 ? numelOf(innerShape.slice(1)) : 1
  const sum = new Float32Array(rows * inner)
  for (const c of contributions) {
    const factor = c.weight * c.module.scale
    if (factor === 0) continue
    const delta = loraDelta(tf, c.module.factors, kernel, (loc) => reader.readFloat32(loc))
    for (let i = 0; i < sum.length; i++) sum[i]! += factor * delta[i]!
  }
  const rank = kernel > 1 ? options.convRank : options.rank
  const factors = lowRankFactors(tf, sum, rows, inner, { rank, alpha: options.alpha, clampQuantile: 1 }, deriveRng(0, name, 'lora-merge', 0))
  return { name, weightShape, factors, alpha: options.alpha ?? factors.rank }
}

/** A metadata value all inputs share, or null. */
function commonValue(files: readonly LoraFile[], key: string): string | null {
  const values = new Set(files.map((f) => f.metadata[key]))
  const [only] = values
  return values.size === 1 && only !== undefined ? only : null
}
