import type { CommandIO } from '../../src-main/cli/command'
import { main } from '../../src-main/cli/main'

export interface Run {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** One `amalgam` invocation with its output captured (stderr is not a terminal). */
export async function amalgam(...args: string[]): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const io: CommandIO = { out: (t) => void out.push(t), err: (t) => void err.push(t), interactive: false }
  const code = await main(args, io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** A user-facing failure: one line on stderr naming the file, no stack trace. */
export function expectOneLineError(run: Run, command: string, file: string, problem: RegExp): void {
  const lines = run.err.split('\n').filter((l) => l !== '')
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${run.err}`)
  const line = lines[0]!
  if (!line.startsWith(`amalgam ${command}: ${file}: `)) throw new Error(`stderr does not name ${file}: ${line}`)
  if (!problem.test(line)) throw new Error(`stderr does not match ${String(problem)}: ${line}`)
  if (/\n\s+at /.test(run.err)) throw new Error(`stderr has a stack trace: ${run.err}`)
}
