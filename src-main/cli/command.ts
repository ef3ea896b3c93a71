/** One `amalgam` subcommand. `run` returns the process exit code. */
export interface Command {
  readonly name: string
  /** one line for `amalgam help` */
  readonly summary: string
  /** full usage text for `amalgam help NAME` and usage errors */
  readonly usage: string
  run(argv: readonly string[], io: CommandIO): Promise<number>
}

/** Where a command writes; tests capture it. */
export interface CommandIO {
  out(text: string): void
  err(text: string): void
  /** true when stderr is a terminal (progress bars) */
  readonly interactive: boolean
}

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
