import { layoutSafetensors } from '../formats/safetensors/writer'
import type { PlannedKey } from './plan-keys'
import type { KeyTask } from './types'

/**
 * Places every key in the output file. The layout is computed exactly as the executor's writer will
 * compute it: `layoutSafetensors(plan.tasks, plan.output.metadata, { reserveMetadataBytes })`, the
 * tasks being the tensor list (key, dtype, shape, in order), so each task's begin/end is where the
 * writer expects its bytes (the executor checks this before writing).
 */
export function taskLayout(keys: readonly PlannedKey[], metadata: Readonly<Record<string, string>>, reserveMetadataBytes: number): { tasks: KeyTask[]; totalBytes: number } {
  const layout = layoutSafetensors(keys, metadata, { reserveMetadataBytes })
  const tasks = keys.map((k, index): KeyTask => {
    const { begin, end } = layout.offsets.get(k.key)!
    return { index, key: k.key, dtype: k.dtype, shape: k.shape, action: k.action, block: k.block, begin, end, inputBytes: k.inputBytes }
  })
  return { tasks, totalBytes: layout.totalBytes }
}
