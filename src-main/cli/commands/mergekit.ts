import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { AmalgamError } from '../../engine/errors'
import { exportMergekit } from '../../engine/mergekit/export'
import { importMergekit } from '../../engine/mergekit/import'
import { parseRecipeJson } from '../../engine/recipe/parse'
import { UsageError, type Command, type CommandIO } from '../command'

const USAGE = [
  'usage: amalgam mergekit import CONFIG.yml [--out RECIPE.json] [--layers N] [--output-path PATH] [--overwrite]',
  '       amalgam mergekit export RECIPE.json [--out CONFIG.yml] [--overwrite]',
  '',
  '  import         a mergekit YAML config as a recipe (printed, or written to --out)',
  '  export         a recipe as a mergekit YAML config (printed, or written to --out)',
  '  --layers N     layer count for filters whose value is a gradient (default: from the config\'s',
  '                 slice range or a local model\'s config.json)',
  '  --output-path  the recipe\'s output.path (default "merged")',
  '',
  'Model paths are kept as given and read relative to the config (keep the recipe beside it); Hub ids',
  'must be downloaded first: Amalgam never downloads.',
  'Features without a counterpart are refused, each named ("not translated: ..."); notes go to stderr.',
  'See docs/MERGEKIT.md. Exit status: 0 translated, 1 refused or unreadable, 2 usage error.',
].join('\n')

export const mergekitCommand: Command = {
  name: 'mergekit',
  summary: 'import a mergekit YAML config as a recipe, or export a recipe as mergekit YAML',
  usage: USAGE,
  run(argv, io) {
    const args = parseMergekitArgs(argv)
    const text = readText(args.file)
    const { output, notes } = args.action === 'import' ? translateImport(text, args) : translateExport(text, args)
    for (const note of notes) io.err(`note: ${note}`)
    emit(output, args, io)
    return Promise.resolve(0)
  },
}

interface MergekitArgs {
  readonly action: 'import' | 'export'
  readonly file: string
  readonly out: string | null
  readonly layers: number | undefined
  readonly outputPath: string | undefined
  readonly overwrite: boolean
}

function translateImport(text: string, args: MergekitArgs): { output: string; notes: readonly string[] } {
  const { recipe, notes } = importMergekit(text, args.file, {
    dir: dirname(resolve(args.file)),
    ...(args.layers !== undefined ? { layers: args.layers } : {}),
    ...(args.outputPath !== undefined ? { outputPath: args.outputPath } : {}),
  })
  return { output: `${JSON.stringify(recipe, null, 2)}\n`, notes }
}

function translateExport(text: string, args: MergekitArgs): { output: string; notes: readonly string[] } {
  const { yaml, notes } = exportMergekit(parseRecipeJson(text, args.file), args.file)
  return { output: yaml, notes }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new AmalgamError('FILE_NOT_FOUND', `${file}: cannot be read (${(err as Error).message})`, file)
  }
}

function emit(text: string, args: MergekitArgs, io: CommandIO): void {
  if (args.out === null) {
    io.out(text.trimEnd())
    return
  }
  const target = resolve(args.out)
  if (existsSync(target) && !args.overwrite) throw new AmalgamError('OUTPUT_EXISTS', `${target}: exists (pass --overwrite to replace it)`, target)
  writeFileSync(`${target}.partial`, text)
  renameSync(`${target}.partial`, target)
  io.err(`wrote ${target}`)
}

function parseMergekitArgs(argv: readonly string[]): MergekitArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        layers: { type: 'string' },
        'output-path': { type: 'string' },
        overwrite: { type: 'boolean', default: false },
      },
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const [action, file, ...rest] = parsed.positionals
  if (action !== 'import' && action !== 'export') throw new UsageError(`expected import or export, got ${JSON.stringify(action ?? '')}`)
  if (file === undefined || rest.length > 0) throw new UsageError(`mergekit ${action} takes one file`)
  const { layers, out, overwrite } = parsed.values
  const outputPath = parsed.values['output-path']
  if (action === 'export' && (layers !== undefined || outputPath !== undefined)) throw new UsageError('--layers and --output-path are import options')
  const count = layers === undefined ? undefined : Number(layers)
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new UsageError(`--layers: expected a positive integer, got ${JSON.stringify(layers)}`)
  return { action, file, out: out ?? null, layers: count, outputPath, overwrite }
}
