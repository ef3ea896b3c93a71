import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { RECIPE_FORMAT, RECIPE_VERSION, type ParamValue, type Recipe } from '../../common/recipe'
import { getConvention } from '../../engine/arch/blocks'
import { AmalgamError } from '../../engine/errors'
import { ioError } from '../../engine/formats/file-io'
import { openPlanInput } from '../../engine/plan/plan-inputs'
import { parseRecipe, parseRecipeJson } from '../../engine/recipe/parse'
import { UsageError } from '../command'

/** What `amalgam merge` and `amalgam plan` were asked to do. */
export interface MergeRequest {
  readonly recipe: Recipe
  /** the folder relative recipe paths are resolved against */
  readonly cwd: string
  readonly overwrite: boolean
  readonly jsonProgress: boolean
  readonly json: boolean
}

export const MERGE_ARGS_USAGE = [
  '  RECIPE.json          a recipe file (docs/RECIPES.md); its relative paths are relative to the file',
  '  --out PATH           the output .safetensors, or a Hugging Face folder for LLMs (no extension); required without a recipe file, with one it replaces output.path',
  '  --overwrite          replace an existing output file (an input is never replaced)',
  '',
  'without a recipe file:',
  '  --method ID          merge method or alias (`amalgam methods`)',
  '  --input PATH         an input model, repeatable: a, then b, c, ...',
  '  --base PATH          the base (common ancestor) model',
  '  --param NAME=VALUE   a parameter: a number, true/false, a word, or one number per input (0.3,0.7); repeatable',
  '  --blocks NAME=v,...  a per-block parameter: one value per block of the architecture in its default',
  '                       convention, BASE first (26 for SD1/SD2, 20 for SDXL); repeatable',
  '  --seed N             seed for random methods (default 0)',
  '  --dtype TYPE         output dtype: auto (a\'s), fp16, bf16, fp32, fp8 (= fp8_e4m3), fp8_e5m2',
].join('\n')

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        'json-progress': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        method: { type: 'string' },
        input: { type: 'string', multiple: true, default: [] },
        base: { type: 'string' },
        param: { type: 'string', multiple: true, default: [] },
        blocks: { type: 'string', multiple: true, default: [] },
        seed: { type: 'string' },
        dtype: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

type Values = ReturnType<typeof parse>['values']

const FLAG_ONLY = ['method', 'input', 'base', 'param', 'blocks', 'seed', 'dtype'] as const

const DTYPES: Readonly<Record<string, Recipe['output']['dtype']>> = {
  auto: 'auto',
  fp16: 'fp16',
  bf16: 'bf16',
  fp32: 'fp32',
  fp8: 'fp8_e4m3',
  fp8_e4m3: 'fp8_e4m3',
  fp8_e5m2: 'fp8_e5m2',
}

/** Reads the command line of `amalgam merge` / `amalgam plan` into a recipe. */
export async function parseMergeArgs(argv: readonly string[], allowed: { jsonProgress: boolean; json: boolean }): Promise<MergeRequest> {
  const { values, positionals } = parse(argv)
  if (values['json-progress'] && !allowed.jsonProgress) throw new UsageError('--json-progress is an option of amalgam merge')
  if (values.json && !allowed.json) throw new UsageError('--json is an option of amalgam plan')
  if (positionals.length > 1) throw new UsageError(`expected one recipe file, got ${positionals.length} arguments: ${positionals.join(' ')}`)
  const common = { overwrite: values.overwrite, jsonProgress: values['json-progress'], json: values.json }
  const file = positionals[0]
  if (file !== undefined) {
    const given = FLAG_ONLY.filter((name) => { const v = values[name]; return Array.isArray(v) ? v.length > 0 : v !== undefined })
    if (given.length > 0) throw new UsageError(`--${given[0]} cannot be combined with a recipe file (edit the recipe instead)`)
    const recipe = await readRecipeFile(resolve(file))
    const out = values.out === undefined ? recipe : { ...recipe, output: { ...recipe.output, path: resolve(values.out) } }
    return { recipe: out, cwd: dirname(resolve(file)), ...common }
  }
  return { recipe: await recipeFromFlags(values), cwd: process.cwd(), ...common }
}

async function readRecipeFile(path: string): Promise<Recipe> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw ioError(err, path)
  }
  return parseRecipeJson(text, path)
}

async function recipeFromFlags(values: Values): Promise<Recipe> {
  if (values.method === undefined) throw new UsageError('give a recipe file, or --method with --input and --out')
  if (values.input.length === 0) throw new UsageError('--input: give at least one input model')
  if (values.out === undefined) throw new UsageError('--out: give the output file')
  const params: Record<string, ParamValue> = {}
  for (const entry of values.param) {
    const [name, text] = nameValue('--param', entry)
    if (name in params) throw new UsageError(`--param ${name}: given twice`)
    params[name] = parseParamValue(text)
  }
  if (values.blocks.length > 0) await addBlockValues(params, values.blocks, values.input[0]!)
  const dtype = values.dtype === undefined ? 'auto' : DTYPES[values.dtype]
  if (dtype === undefined) throw new UsageError(`--dtype ${values.dtype}: expected one of ${Object.keys(DTYPES).join(', ')}`)
  let seed = 0
  if (values.seed !== undefined) {
    seed = Number(values.seed)
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) throw new UsageError(`--seed ${values.seed}: expected a non-negative integer`)
  }
  return parseRecipe(
    {
      format: RECIPE_FORMAT,
      version: RECIPE_VERSION,
      merge: {
        method: values.method,
        inputs: values.input.map((model) => ({ model })),
        ...(values.base === undefined ? {} : { base: { model: values.base } }),
        params,
      },
      output: { path: values.out, dtype },
      seed,
    },
    'command line',
  )
}

function nameValue(flag: string, entry: string): [string, string] {
  const at = entry.indexOf('=')
  if (at <= 0) throw new UsageError(`${flag} ${entry}: expected NAME=VALUE`)
  return [entry.slice(0, at), entry.slice(at + 1)]
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i

/** "0.5" → 0.5, "true" → true, "0.3,0.7" → [0.3, 0.7] (one per input), anything else → the word. */
export function parseParamValue(text: string): ParamValue {
  if (text === 'true' || text === 'false') return text === 'true'
  const parts = text.split(',').map((p) => p.trim())
  if (parts.every((p) => NUMBER.test(p))) {
    const numbers = parts.map(Number)
    return numbers.length === 1 ? numbers[0]! : numbers
  }
  return text
}

/**
 * --blocks NAME=v1,v2,...: one value per block of a's architecture in its default convention, BASE
 * first, into the parameter's per-block values (a plain --param of the same name stays its global value).
 */
async function addBlockValues(params: Record<string, ParamValue>, entries: readonly string[], firstInput: string): Promise<void> {
  const a = await openPlanInput(resolve(firstInput), '--input')
  const { architecture, depth } = a.detection
  let blockIds: readonly string[]
  let label: string
  try {
    const convention = getConvention(architecture, undefined, undefined, depth)
    blockIds = convention.blockIds
    label = `${convention.name} ${convention.version}`
  } catch (err) {
    throw new AmalgamError('BAD_ARGUMENT', `--blocks: ${(err as Error).message}`)
  }
  for (const entry of entries) {
    const [name, text] = nameValue('--blocks', entry)
    const values = text.split(',').map((p) => p.trim())
    if (!values.every((v) => NUMBER.test(v))) throw new UsageError(`--blocks ${name}: expected comma-separated numbers, got ${text}`)
    if (values.length !== blockIds.length) {
      throw new UsageError(`--blocks ${name}: ${architecture} has ${blockIds.length} blocks in the ${label} convention (${blockIds.join(', ')}), got ${values.length} values`)
    }
    const existing = params[name]
    if (existing !== undefined && typeof existing !== 'number') throw new UsageError(`--blocks ${name}: --param ${name} must be a single number to combine with per-block values`)
    params[name] = {
      ...(existing === undefined ? {} : { value: existing }),
      blocks: Object.fromEntries(blockIds.map((id, i) => [id, Number(values[i])])),
    }
  }
}
