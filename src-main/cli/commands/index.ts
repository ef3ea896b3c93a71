import type { Command } from '../command'
import { methodsCommand } from './methods'
import { serveCommand } from './serve'

/** Every subcommand, in the order `amalgam help` lists them. */
export const COMMANDS: readonly Command[] = [methodsCommand, serveCommand]
