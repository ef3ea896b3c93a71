import { AmalgamError, describeError } from '../engine/errors'
import { UsageError, type Command, type CommandIO } from './command'
import { COMMANDS } from './commands'

// A reader that goes away (`amalgam scan | head`) must not crash a running command: the merge it may be
// doing has to finish (or clean up) normally, so a closed pipe just stops further output to it.
const closedStreams = new WeakSet<NodeJS.WriteStream>()
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    closedStreams.add(stream)
  })
}

function writeLine(stream: NodeJS.WriteStream, text: string): void {
  if (!closedStreams.has(stream)) stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

const processIO: CommandIO = {
  out: (text) => writeLine(process.stdout, text),
  err: (text) => writeLine(process.stderr, text),
  interactive: Boolean(process.stderr.isTTY),
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'amalgam — merge model checkpoints, key by key, with bounded memory',
    '',
    'usage: amalgam <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'amalgam help <command> shows a command\'s options.',
  ].join('\n')
}

/** Runs one CLI invocation; user-facing failures are one line on stderr and a non-zero exit code. */
export async function main(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const target = rest[0] ? COMMANDS.find((c) => c.name === rest[0]) : undefined
    io.out(target ? target.usage : helpText())
    return 0
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name)
  if (!command) {
    io.err(`amalgam: unknown command "${name}"\n\n${helpText()}`)
    return 2
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`amalgam ${command.name}: ${err.message}\n\n${command.usage}`)
      return 2
    }
    if (err instanceof AmalgamError) {
      io.err(`amalgam ${command.name}: ${err.message}`)
      return 1
    }
    io.err(`amalgam ${command.name}: internal error: ${describeError(err)}`)
    if (process.env.AMALGAM_DEBUG && err instanceof Error && err.stack) io.err(err.stack)
    else io.err('(set AMALGAM_DEBUG=1 to see the stack trace)')
    return 70
  }
}
