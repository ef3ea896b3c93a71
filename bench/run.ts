import { describeError } from '../src-main/engine/errors'
import { runBench } from './bench'
import { parseBenchArgs } from './options'
import { formatReport } from './report'

/** `npm run bench -- [options]`: see options.ts. Progress goes to stderr, the report to stdout. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const opts = parseBenchArgs(argv)
    const report = await runBench(opts, (line) => process.stderr.write(`${line}\n`))
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`)
    return 0
  } catch (err) {
    process.stderr.write(`bench: ${describeError(err)}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
