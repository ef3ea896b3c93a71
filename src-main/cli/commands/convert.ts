import { parseArgs } from 'node:util'
import { isAmalgamError } from '../../engine/errors'
import { convertCheckpoint, CONVERT_DTYPES, type ConvertDType } from '../../engine/library/convert'
import { formatBytes } from '../../engine/plan/format'
import { UsageError, type Command } from '../command'
import { progressReporter } from './library-report'

/** The conventional exit status of a process stopped by SIGINT. */
const EXIT_CANCELLED = 130

export const convertCommand: Command = {
  name: 'convert',
  summary: 'write a .ckpt/.pt or safetensors checkpoint as safetensors, optionally in another dtype',
  usage: [
    `usage: amalgam convert IN OUT.safetensors [--dtype ${CONVERT_DTYPES.join('|')}] [--overwrite]`,
    '',
    '  --dtype TYPE   float tensors are written in TYPE; `same` (the default) keeps each tensor\'s dtype.',
    '                 Integer tensors (position ids, step counters) are always kept as they are.',
    '  --overwrite    replace OUT if it exists (IN is never replaced)',
    '',
    'Reads torch files without running their pickle (hostile files are refused) and converts one tensor',
    'at a time, so memory stays at one tensor. Writes OUT.partial and renames it when complete; the',
    'metadata is `format: pt` plus, for a safetensors IN, its own metadata.',
    'Exit status: 0 written, 1 refused or failed (nothing is left behind), 2 usage error, 130 cancelled.',
  ].join('\n'),
  async run(argv, io) {
    const { input, output, dtype, overwrite } = parseConvertArgs(argv)
    const controller = new AbortController()
    const interrupt = (): void => controller.abort()
    process.once('SIGINT', interrupt)
    const progress = progressReporter(io)
    try {
      const result = await convertCheckpoint(input, output, {
        dtype,
        overwrite,
        signal: controller.signal,
        onProgress: (done, total, key) => {
          if (io.interactive) progress.show(`converting ${done}/${total} ${key}`, 'convert')
        },
      })
      progress.clear()
      const dtypes = Object.entries(result.dtypes)
        .map(([name, n]) => `${n} ${name}`)
        .join(', ')
      io.out(`wrote ${result.path} (${result.tensors} tensors: ${dtypes}; ${formatBytes(result.bytes)})`)
      return 0
    } catch (err) {
      progress.clear()
      if (isAmalgamError(err, 'CANCELLED')) {
        io.err(`amalgam convert: ${err.message}`)
        return EXIT_CANCELLED
      }
      throw err
    } finally {
      process.removeListener('SIGINT', interrupt)
    }
  },
}

function parseConvertArgs(argv: readonly string[]): { input: string; output: string; dtype: ConvertDType; overwrite: boolean } {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { dtype: { type: 'string', default: 'same' }, overwrite: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: true,
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const [input, output, ...extra] = parsed.positionals
  if (input === undefined || output === undefined) throw new UsageError('expected IN and OUT.safetensors')
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}: convert takes one IN and one OUT`)
  const dtype = CONVERT_DTYPES.find((d) => d === parsed.values.dtype)
  if (dtype === undefined) throw new UsageError(`--dtype ${parsed.values.dtype}: expected one of ${CONVERT_DTYPES.join(', ')}`)
  if (!/\.safetensors$/i.test(output)) throw new UsageError(`${output}: the output must be a .safetensors file`)
  return { input, output, dtype, overwrite: parsed.values.overwrite }
}

