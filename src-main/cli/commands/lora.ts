import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { LoraDetails } from '../../common/model-entry'
import { AmalgamError } from '../../engine/errors'
import { openCheckpoint } from '../../engine/formats/open'
import { TensorReader } from '../../engine/formats/tensor-reader'
import { loraDetails } from '../../engine/lora/lora-details'
import { readLoraFile, type LoraFile } from '../../engine/lora/lora-file'
import { matchLora } from '../../engine/lora/lora-match'
import { openPlanInput } from '../../engine/plan/plan-inputs'
import { UsageError, type Command } from '../command'
import { LORA_BUILD_HELP, LORA_EXTRACT_USAGE, LORA_MERGE_USAGE, runLoraExtract, runLoraMerge } from './lora-build'

interface LoraReport {
  readonly path: string
  readonly lora: LoraDetails
  /** modules Amalgam cannot apply, as the file names them */
  readonly unsupported: readonly string[]
  readonly match: MatchReport | null
}

interface MatchReport {
  readonly model: string
  readonly architecture: string
  readonly matchedModules: number
  /** checkpoint keys the LoRA changes */
  readonly adaptedKeys: readonly string[]
  readonly unmatched: readonly string[]
  readonly shapeMismatches: readonly { readonly module: string; readonly why: string }[]
}

const USAGE = [
  'usage: amalgam lora inspect FILE [--model CHECKPOINT] [--json]',
  LORA_EXTRACT_USAGE,
  LORA_MERGE_USAGE,
  '',
  'inspect:',
  '  FILE         a LoRA / LoCon / LoHa / LoKr file (kohya, diffusers / PEFT or LyCORIS naming)',
  '  --model      match its modules against this checkpoint: which keys it changes, which modules match nothing',
  '  --json       print the report as JSON',
  '',
  'Bake LoRAs into a model with a recipe node {"lora": MODEL, "loras": [...]} (docs/RECIPES.md).',
  LORA_BUILD_HELP,
  '',
  'Exit status: 0 done (inspect: the LoRA was read and, with --model, some module matched), 1 refused or failed (inspect: no LoRA,',
  'unreadable or matching nothing), 2 usage error.',
].join('\n')

export const loraCommand: Command = {
  name: 'lora',
  summary: 'inspect a LoRA file and the keys it matches in a checkpoint; extract a LoRA from two checkpoints; merge LoRAs',
  usage: USAGE,
  async run(argv, io) {
    if (argv[0] === 'extract') return runLoraExtract(argv.slice(1), io)
    if (argv[0] === 'merge') return runLoraMerge(argv.slice(1), io)
    const args = parseLoraArgs(argv)
    const report = await inspectLora(args.file, args.model)
    io.out(args.json ? JSON.stringify(report, null, 2) : reportText(report))
    if (report.match !== null && report.match.matchedModules === 0) {
      io.err(`amalgam lora: none of the modules of ${report.path} matches a layer of ${report.match.model}`)
      return 1
    }
    return 0
  },
}

async function inspectLora(path: string, model: string | null): Promise<LoraReport> {
  const absolute = resolve(path)
  const reader = new TensorReader()
  let file: LoraFile
  try {
    file = readLoraFile(await openCheckpoint(absolute), reader)
  } finally {
    reader.close()
  }
  if (file.modules.length === 0) throw new AmalgamError('UNSUPPORTED_FORMAT', `${absolute}: holds no LoRA, LoCon, LoHa or LoKr module Amalgam can read`)
  const report = { path: absolute, lora: loraDetails(file), unsupported: file.unsupported }
  if (model === null) return { ...report, match: null }
  const input = await openPlanInput(resolve(model), '--model')
  const match = matchLora(file, input.detection.architecture, input.tensors)
  return {
    ...report,
    match: {
      model: input.path,
      architecture: input.detection.architecture,
      matchedModules: [...match.byKey.values()].reduce((n, list) => n + list.length, 0),
      adaptedKeys: [...match.byKey.keys()],
      unmatched: match.unmatched,
      shapeMismatches: match.shapeMismatches,
    },
  }
}

function reportText(report: LoraReport): string {
  const { lora } = report
  const lines = [report.path]
  const row = (label: string, value: string): void => void lines.push(`  ${label.padEnd(13)} ${value}`)
  row('network', `${lora.networkTypes.join(', ')}${lora.conv ? ' (with conv layers)' : ''}, ${lora.naming} names`)
  row('made for', lora.baseArchitecture)
  row('modules', `${lora.modules}${lora.textEncoder ? ' (text encoder included)' : ''}${lora.unsupportedModules > 0 ? `, ${lora.unsupportedModules} not applicable (first: ${report.unsupported[0] ?? ''})` : ''}`)
  row('rank / alpha', `${lora.rank ?? '?'} / ${lora.alpha ?? 'none (scale 1)'}`)
  for (const key of ['ss_output_name', 'ss_sd_model_name', 'ss_base_model_version', 'ss_network_module', 'ss_network_dim', 'ss_network_alpha']) {
    const value = lora.training[key]
    if (value !== undefined) row(key, value)
  }
  const match = report.match
  if (match !== null) {
    lines.push(`  against ${match.model} (${match.architecture})`)
    row('matched', `${match.matchedModules} modules → ${match.adaptedKeys.length} keys`)
    row('unmatched', match.unmatched.length === 0 ? 'none' : `${match.unmatched.length}:`)
    for (const name of match.unmatched) lines.push(`    ${name}`)
    if (match.shapeMismatches.length > 0) {
      row('wrong shape', `${match.shapeMismatches.length}:`)
      for (const m of match.shapeMismatches) lines.push(`    ${m.module}: ${m.why}`)
    }
  }
  return lines.join('\n')
}

function parseLoraArgs(argv: readonly string[]): { file: string; model: string | null; json: boolean } {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: { model: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const [action, file, ...extra] = parsed.positionals
  if (action !== 'inspect') throw new UsageError(action === undefined ? 'missing action: amalgam lora inspect FILE' : `unknown action ${action} (known: inspect, extract, merge)`)
  if (file === undefined) throw new UsageError('missing FILE: the LoRA file to inspect')
  if (extra.length > 0) throw new UsageError(`one FILE at a time (also got ${extra.join(' ')})`)
  return { file, model: parsed.values.model ?? null, json: parsed.values.json }
}
