import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { AmalgamError } from '../src-main/engine/errors'

export const BENCH_METHODS = ['weighted_sum', 'add_difference', 'ties_sum'] as const
export type BenchMethod = (typeof BENCH_METHODS)[number]

export interface BenchOptions {
  /** SDXL instead of SD1.5 */
  readonly xl: boolean
  /** tiny shapes (same keys, a few hundred KB per file): what the unit test runs, not a measurement */
  readonly tiny: boolean
  readonly methods: readonly BenchMethod[]
  readonly cacheDir: string
  readonly keepOutputs: boolean
  /** print JSON on stdout instead of the table */
  readonly json: boolean
  /** also measure with the page cache dropped (when the system permits it) */
  readonly cold: boolean
}

export const USAGE = `usage: npm run bench -- [--xl] [--only weighted_sum,add_difference,ties_sum] [--cache DIR] [--keep-outputs] [--json] [--warm-only] [--tiny]`

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
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (err) {
    throw new AmalgamError('BAD_ARGUMENT', `bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  const { values } = parsed
  return {
    xl: values.xl,
    tiny: values.tiny,
    methods: values.only === undefined ? BENCH_METHODS : parseMethods(values.only),
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
