import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { AmalgamError } from '../src-main/engine/errors'

export const BENCH_METHODS = ['weighted_sum', 'add_difference', 'ties_sum'] as const
export type BenchMethod = (typeof BENCH_METHODS)[number]

/** The cases beside the method table, in table order: --llm, --lora-extract, --rotate. */
export const BENCH_CASES = ['llm_slerp', 'lora_extract', 'rotate'] as const
export type BenchCase = (typeof BENCH_CASES)[number]

const CASE_FLAGS = { llm_slerp: 'llm', lora_extract: 'lora-extract', rotate: 'rotate' } as const satisfies Record<BenchCase, string>

export interface BenchOptions {
  /** SDXL instead of SD1.5 */
  readonly xl: boolean
  /** tiny shapes (same keys, a few hundred KB per file): what the unit test runs, not a measurement */
  readonly tiny: boolean
  /** none when only cases were asked for (and no --only) */
  readonly methods: readonly BenchMethod[]
  readonly cases: readonly BenchCase[]
  readonly cacheDir: string
  readonly keepOutputs: boolean
  /** print JSON on stdout instead of the table */
  readonly json: boolean
  /** also measure with the page cache dropped (when the system permits it) */
  readonly cold: boolean
}

export const USAGE = `usage: npm run bench -- [--xl] [--only weighted_sum,add_difference,ties_sum] [--cache DIR] [--keep-outputs] [--json] [--warm-only] [--tiny] [--llm] [--lora-extract] [--rotate]`

export function defaultBenchCacheDir(): string {
  return join(homedir(), '.cache', 'amalgam-bench')
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        xl: { type: 'boolean', default: false },
        tiny: { type: 'boolean', default: false },
        only: { type: 'string' },
        cache: { type: 'string' },
        'keep-outputs': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'warm-only': { type: 'boolean', default: false },
        llm: { type: 'boolean', default: false },
        'lora-extract': { type: 'boolean', default: false },
        rotate: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (err) {
    throw new AmalgamError('BAD_ARGUMENT', `bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  const { values } = parsed
  const cases = BENCH_CASES.filter((c) => values[CASE_FLAGS[c]])
  const sdOnly = cases.find((c) => c !== 'llm_slerp')
  if (values.xl && sdOnly !== undefined) {
    throw new AmalgamError('BAD_ARGUMENT', `bench: --${CASE_FLAGS[sdOnly]} measures SD1.5 models (issues 6 and 7): leave out --xl`)
  }
  return {
    xl: values.xl,
    tiny: values.tiny,
    methods: values.only !== undefined ? parseMethods(values.only) : cases.length > 0 ? [] : BENCH_METHODS,
    cases,
    cacheDir: values.cache === undefined ? defaultBenchCacheDir() : resolve(values.cache),
    keepOutputs: values['keep-outputs'],
    json: values.json,
    cold: !values['warm-only'],
  }
}

function parseMethods(list: string): BenchMethod[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new AmalgamError('BAD_ARGUMENT', `bench: --only needs at least one of ${BENCH_METHODS.join(', ')}`)
  const unknown = names.find((n) => !isBenchMethod(n))
  if (unknown !== undefined) {
    throw new AmalgamError('BAD_ARGUMENT', `bench: --only: unknown method ${JSON.stringify(unknown)} (the benchmark runs ${BENCH_METHODS.join(', ')})`)
  }
  // always in the table's order, whatever order --only listed them in
  return BENCH_METHODS.filter((m) => names.includes(m))
}

function isBenchMethod(name: string): name is BenchMethod {
  return (BENCH_METHODS as readonly string[]).includes(name)
}
