import type { z } from 'zod'
import type { ArchitectureInfo, DialogOpenRequest, DialogSaveRequest, LibraryProgress, LibrarySnapshot, ModelDetails } from '../common/ipc'
import type { PlanSummary } from '../common/plan-summary'
import type { Recipe } from '../common/recipe'
import type { ParsedRequest } from './dispatch'

/*
 * What the app's services need from the engine and from the desktop, as small interfaces: the
 * composition root (app-services.ts) receives implementations, so services and handlers are tested
 * without the engine, and the engine never depends on the app.
 */

export interface LibraryListener {
  /** entries or folders changed: the renderer re-reads library.list */
  changed(): void
  progress(progress: z.infer<typeof LibraryProgress>): void
}

/** The model library (engine/library): folder scans, detection, the header cache, background hashing. */
export interface LibraryBackend {
  /** the folders to cover, from the settings: at start and after every change; scanning runs in the background */
  setFolders(folders: readonly string[]): void
  /** what is known right now; `scanning` is true while a scan runs */
  snapshot(): LibrarySnapshot
  /** scans every folder again (unchanged files come from the cache) */
  rescan(): void
  /** full details of one file or model folder, inside the library or not */
  inspect(path: string): Promise<ModelDetails>
  /** full-file hashes in the background: progress through the listener, results as `changed` */
  hash(paths: readonly string[]): void
  /** writes the small generated demo checkpoints into `folder` (an existing folder) */
  createDemo(folder: string): Promise<void>
  subscribe(listener: LibraryListener): () => void
}

export interface ComputeBackendInfo {
  readonly name: string
  /** why the GPU is not used; null when it is */
  readonly gpuUnavailableReason: string | null
  /** who computes matrix products: the backend, or on wasm the native addon (and if not, why) */
  readonly matMul: string
}

/** The planner (engine/plan): the pre-flight check shown before Merge. */
export interface PlannerBackend {
  /** plans without writing anything; problems that block the merge are findings, not errors */
  preview(recipe: Recipe): Promise<PlanSummary>
  /** the compute backend merges run on, for app.status */
  computeBackend(): Promise<ComputeBackendInfo>
}

/** Architecture data (blocks, components, block presets) for the per-block editor. */
export interface ArchitectureBackend {
  info(request: ParsedRequest<'architecture.info'>): Promise<ArchitectureInfo>
}

export interface EngineBackends {
  readonly library: LibraryBackend
  readonly planner: PlannerBackend
  readonly architecture: ArchitectureBackend
}

/** Native desktop features: the Electron shell implements them; `amalgam serve` has none. */
export interface DesktopIntegration {
  /** chosen paths; empty when the user cancelled */
  openDialog(request: z.output<typeof DialogOpenRequest>): Promise<string[]>
  /** the chosen path; null when the user cancelled */
  saveDialog(request: z.output<typeof DialogSaveRequest>): Promise<string | null>
  /** shows the file in the system's file manager */
  reveal(path: string): Promise<void>
}

export interface EngineContext {
  /** the app's data folder (the library may keep its header cache here) */
  readonly dataDir: string
  readonly report: (message: string) => void
}

/**
 * What `src-main/services/engine-backends.ts` exports as `createEngineBackends`: the one place the
 * engine is adapted to these interfaces, used by the desktop shell and `amalgam serve` alike.
 */
export type CreateEngineBackends = (context: EngineContext) => Promise<EngineBackends>
