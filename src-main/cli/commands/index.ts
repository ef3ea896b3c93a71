import type { Command } from '../command'
import { methodsCommand } from './methods'

/** Every subcommand, in the order `amalgam help` lists them. */
export const COMMANDS: readonly Command[] = [methodsCommand]
