import type { Architecture } from '../../common/model-entry'
import { numelOf } from '../formats/dtype'
import { loraNameTable, type LoraTarget } from './checkpoint-names'
import { deltaExtent } from './lora-delta'
import type { LoraFile, LoraModule } from './lora-file'

/** A module that adapts a key: the delta goes to `target.rows` of the key (or the whole key). */
export interface MatchedModule {
  readonly module: LoraModule
  readonly target: LoraTarget
}

export interface LoraMatch {
  /** canonical key → the modules that adapt it, in file order */
  readonly byKey: ReadonlyMap<string, readonly MatchedModule[]>
  /** modules (as the file names them) whose name is no layer of the model */
  readonly unmatched: readonly string[]
  /** modules whose layer exists but whose delta has another shape (a LoRA for another model size), with why */
  readonly shapeMismatches: readonly { readonly module: string; readonly why: string }[]
}

/**
 * Matches a LoRA's modules with a checkpoint's keys (canonical key → shape), through the names the
 * checkpoint's own keys take in every LoRA format (checkpoint-names.ts).
 */
export function matchLora(file: LoraFile, architecture: Architecture, tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>): LoraMatch {
  const table = loraNameTable(architecture, tensors)
  const byKey = new Map<string, MatchedModule[]>()
  const unmatched: string[] = []
  const shapeMismatches: { module: string; why: string }[] = []
  for (const module of file.modules) {
    const target = table.get(module.name)
    const shape = target === undefined ? undefined : tensors.get(target.key)?.shape
    if (target === undefined || shape === undefined) {
      unmatched.push(module.fileName)
      continue
    }
    const why = extentProblem(module, target, shape)
    if (why !== null) {
      shapeMismatches.push({ module: module.fileName, why })
      continue
    }
    const list = byKey.get(target.key)
    if (list === undefined) byKey.set(target.key, [{ module, target }])
    else list.push({ module, target })
  }
  return { byKey, unmatched, shapeMismatches }
}

function extentProblem(module: LoraModule, target: LoraTarget, shape: readonly number[]): string | null {
  const rows = target.rows?.count ?? shape[0] ?? 1
  const inner = (shape[0] ?? 1) === 0 ? 0 : numelOf(shape) / (shape[0] ?? 1)
  const extent = deltaExtent(module.factors)
  if (extent.rows === rows && extent.inner === inner) return null
  const what = target.rows === null ? target.key : `rows ${target.rows.start}..${target.rows.start + target.rows.count - 1} of ${target.key}`
  return `its delta is ${extent.rows}×${extent.inner}, ${what} is ${rows}×${inner} (${JSON.stringify(shape)})`
}
