import { z } from 'zod'
import { Preset } from './ipc'

/**
 * The file a user exports presets to and imports them from (renderer downloads it, main reads it
 * back through presets.import). Versioned like recipes so a later Amalgam can migrate old files.
 */
export const PRESETS_FORMAT = 'amalgam.presets'
export const PRESETS_VERSION = 1

export const PresetsFile = z.strictObject({
  format: z.literal(PRESETS_FORMAT),
  version: z.literal(PRESETS_VERSION),
  presets: z.array(Preset),
})
export type PresetsFile = z.infer<typeof PresetsFile>

export function toPresetsFile(presets: readonly Preset[]): PresetsFile {
  return { format: PRESETS_FORMAT, version: PRESETS_VERSION, presets: [...presets] }
}

/** The text of an export: what the renderer offers for download. */
export function presetsFileText(presets: readonly Preset[]): string {
  return `${JSON.stringify(toPresetsFile(presets), null, 2)}\n`
}
