import { z } from 'zod'
import { MergeEvent } from './events'
import { Lineage } from './lineage'
import { MethodInfo } from './method-info'
import { ModelEntry } from './model-entry'
import { PlanSummary } from './plan-summary'
import { BlockConventionRef, Recipe } from './recipe'
import type { EventChannel, InvokeChannel } from './ipc-channels'

/*
 * The one contract between the renderer and main. Main validates every request with these schemas
 * (Electron IPC and `amalgam serve` alike); the renderer validates responses in development.
 * Every call resolves to a Result envelope because Electron's invoke keeps only an error's message.
 */

export const Empty = z.strictObject({})
export const PathArg = z.strictObject({ path: z.string().min(1) })

export const AppStatus = z.strictObject({
  version: z.string(),
  /** electron: native dialogs, drag-and-drop, reveal in folder; serve: a browser on 127.0.0.1 */
  mode: z.enum(['electron', 'serve']),
  backend: z.strictObject({ name: z.string(), gpuUnavailableReason: z.string().nullable(), matMul: z.string() }),
  platform: z.string(),
})
export type AppStatus = z.infer<typeof AppStatus>

export const Settings = z.strictObject({
  libraryFolders: z.array(z.string()),
  outputFolder: z.string().nullable(),
  defaultOutputDType: z.enum(['auto', 'fp32', 'fp16', 'bf16', 'fp8_e4m3', 'fp8_e5m2']),
  embedRecipe: z.boolean(),
})
export type Settings = z.infer<typeof Settings>

export const LibrarySnapshot = z.strictObject({
  folders: z.array(z.string()),
  entries: z.array(ModelEntry),
  scanning: z.boolean(),
})
export type LibrarySnapshot = z.infer<typeof LibrarySnapshot>

export const AncestryNode: z.ZodType<AncestryNode> = z.strictObject({
  name: z.string(),
  sha256: z.string().nullable(),
  method: z.string().nullable(),
  get parents() {
    return z.array(AncestryNode)
  },
})
export interface AncestryNode {
  name: string
  sha256: string | null
  method: string | null
  parents: AncestryNode[]
}

export const ModelDetails = z.strictObject({
  entry: ModelEntry,
  /** merged models: the tree of parents from the embedded recipes (ours, A1111's sd_merge_models) */
  ancestry: AncestryNode.nullable(),
  lineage: Lineage.nullable(),
})
export type ModelDetails = z.infer<typeof ModelDetails>

export const BlockInfo = z.strictObject({
  id: z.string(),
  /** BASE, IN, M, OUT (SD UNets); double, single, extra (Flux); joint (SD3); EMBED, layer, HEAD (LLMs) */
  group: z.string(),
  /** position for gradients and curves, in [0, 1] */
  t: z.number(),
  keys: z.number(),
})
export const BlockPresetInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** where the values come from: "supermerger", "Model Mixer (native SDXL)", "generated curve", "user" */
  source: z.string(),
  values: z.record(z.string(), z.number()),
})
export const ArchitectureInfo = z.strictObject({
  architecture: z.string(),
  convention: BlockConventionRef,
  conventions: z.array(z.strictObject({ name: z.string(), version: z.string(), current: z.boolean() })),
  blocks: z.array(BlockInfo),
  components: z.array(z.string()),
  presets: z.array(BlockPresetInfo),
})
export type ArchitectureInfo = z.infer<typeof ArchitectureInfo>

export const MergePreset = z.strictObject({
  kind: z.literal('merge'),
  id: z.string(),
  name: z.string().min(1),
  updatedAt: z.string(),
  recipe: Recipe,
})
export const BlockPreset = z.strictObject({
  kind: z.literal('blocks'),
  id: z.string(),
  name: z.string().min(1),
  updatedAt: z.string(),
  architecture: z.string(),
  convention: BlockConventionRef,
  values: z.record(z.string(), z.number()),
})
export const Preset = z.discriminatedUnion('kind', [MergePreset, BlockPreset])
export type MergePreset = z.infer<typeof MergePreset>
export type BlockPreset = z.infer<typeof BlockPreset>
export type Preset = z.infer<typeof Preset>
/** what the renderer sends to save: id and timestamp are assigned by main for new presets */
export const PresetDraft = z.union([
  MergePreset.omit({ id: true, updatedAt: true }).extend({ id: z.string().optional() }),
  BlockPreset.omit({ id: true, updatedAt: true }).extend({ id: z.string().optional() }),
])

export const HistoryEntry = z.strictObject({
  id: z.string(),
  status: z.enum(['done', 'failed', 'cancelled']),
  startedAt: z.string(),
  durationMs: z.number(),
  outputPath: z.string(),
  method: z.string(),
  recipe: Recipe,
  error: z.string().nullable(),
  lineagePath: z.string().nullable(),
})
export type HistoryEntry = z.infer<typeof HistoryEntry>

export const FileListing = z.strictObject({
  path: z.string(),
  parent: z.string().nullable(),
  entries: z.array(
    z.strictObject({
      name: z.string(),
      path: z.string(),
      kind: z.enum(['dir', 'file']),
      size: z.number().nullable(),
      /** .safetensors, .ckpt, .pt, or a model folder */
      checkpoint: z.boolean(),
    }),
  ),
})
export type FileListing = z.infer<typeof FileListing>

export const DialogOpenRequest = z.strictObject({
  kind: z.enum(['files', 'folder']),
  title: z.string().optional(),
  /** extensions without dots */
  extensions: z.array(z.string()).optional(),
})
export const DialogSaveRequest = z.strictObject({ title: z.string().optional(), defaultPath: z.string().optional(), extensions: z.array(z.string()).optional() })

const JobId = z.string().min(1)

export const invokeContract = {
  'app.status': { request: Empty, response: AppStatus },
  'settings.get': { request: Empty, response: Settings },
  'settings.update': { request: Settings.partial().strict(), response: Settings },
  'library.list': { request: Empty, response: LibrarySnapshot },
  'library.addFolder': { request: PathArg, response: LibrarySnapshot },
  'library.removeFolder': { request: PathArg, response: LibrarySnapshot },
  'library.rescan': { request: Empty, response: LibrarySnapshot },
  'library.inspect': { request: PathArg, response: ModelDetails },
  'library.hash': { request: z.strictObject({ paths: z.array(z.string().min(1)) }), response: z.strictObject({}) },
  'library.createDemo': { request: z.strictObject({ folder: z.string().min(1).optional() }), response: LibrarySnapshot },
  'methods.list': { request: Empty, response: z.array(MethodInfo) },
  'architecture.info': {
    request: z.strictObject({ architecture: z.string().min(1), convention: BlockConventionRef.optional(), layers: z.number().int().positive().optional() }),
    response: ArchitectureInfo,
  },
  'merge.preview': { request: z.strictObject({ recipe: Recipe }), response: PlanSummary },
  'merge.start': { request: z.strictObject({ recipe: Recipe }), response: z.strictObject({ jobId: JobId }) },
  'merge.cancel': { request: z.strictObject({ jobId: JobId }), response: z.strictObject({}) },
  'presets.list': { request: Empty, response: z.array(Preset) },
  'presets.save': { request: z.strictObject({ preset: PresetDraft }), response: Preset },
  'presets.rename': { request: z.strictObject({ id: z.string(), name: z.string().min(1) }), response: Preset },
  'presets.delete': { request: z.strictObject({ id: z.string() }), response: z.strictObject({}) },
  'presets.import': { request: z.strictObject({ json: z.string().max(10_000_000) }), response: z.array(Preset) },
  'history.list': { request: Empty, response: z.array(HistoryEntry) },
  'history.delete': { request: z.strictObject({ id: z.string() }), response: z.strictObject({}) },
  'files.list': { request: z.strictObject({ path: z.string().optional() }), response: FileListing },
  'files.reveal': { request: PathArg, response: z.strictObject({}) },
  'dialog.open': { request: DialogOpenRequest, response: z.strictObject({ paths: z.array(z.string()) }) },
  'dialog.save': { request: DialogSaveRequest, response: z.strictObject({ path: z.string().nullable() }) },
} as const satisfies Record<InvokeChannel, { request: z.ZodType; response: z.ZodType }>

export const LibraryProgress = z.strictObject({
  phase: z.enum(['scanning', 'hashing']),
  done: z.number(),
  total: z.number(),
  current: z.string().nullable(),
})

export const eventContract = {
  'merge.event': z.strictObject({ jobId: JobId, event: MergeEvent }),
  'library.changed': z.strictObject({}),
  'library.progress': LibraryProgress,
  /** File > Open recipe... in the desktop app: main read and validated the file; the renderer loads it into the builder */
  'recipe.opened': z.strictObject({ path: z.string(), recipe: Recipe }),
} as const satisfies Record<EventChannel, z.ZodType>

export type InvokeRequest<C extends InvokeChannel> = z.input<(typeof invokeContract)[C]['request']>
export type InvokeResponse<C extends InvokeChannel> = z.infer<(typeof invokeContract)[C]['response']>
export type EventPayload<C extends EventChannel> = z.infer<(typeof eventContract)[C]>

export const ErrorEnvelope = z.strictObject({ code: z.string(), message: z.string() })
export type Result<T> = { ok: true; value: T } | { ok: false; error: z.infer<typeof ErrorEnvelope> }

/**
 * What the renderer sees as `window.amalgam` (built by the preload in Electron, by an HTTP client
 * under `amalgam serve`): one function per invoke channel, one subscription per event channel.
 */
export type AmalgamBridge = {
  readonly [C in InvokeChannel]: (request: InvokeRequest<C>) => Promise<Result<InvokeResponse<C>>>
} & {
  readonly events: { readonly [E in EventChannel]: (listener: (payload: EventPayload<E>) => void) => () => void }
  /**
   * The absolute path of a file dropped on the window. Only Electron knows it (webUtils.getPathForFile);
   * a browser page never learns local paths, so under `amalgam serve` this is absent and the UI offers
   * the server-side file browser (files.list) instead.
   */
  readonly pathForFile?: (file: File) => string
}
