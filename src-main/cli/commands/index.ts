import type { Command } from '../command'
import { convertCommand } from './convert'
import { inspectCommand } from './inspect'
import { loraCommand } from './lora'
import { mergeCommand, planCommand } from './merge'
import { mergekitCommand } from './mergekit'
import { methodsCommand } from './methods'
import { scanCommand } from './scan'
import { serveCommand } from './serve'

/** Every subcommand, in the order `amalgam help` lists them. */
export const COMMANDS: readonly Command[] = [mergeCommand, planCommand, inspectCommand, loraCommand, mergekitCommand, scanCommand, convertCommand, methodsCommand, serveCommand]
