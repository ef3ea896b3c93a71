import type { LibraryProgress, LibrarySnapshot } from '../../../src-main/common/ipc'
import type { z } from 'zod'
import type { DesktopIntegration, EngineBackends, LibraryListener } from '../../../src-main/services/backends'
import { testArchitectureInfo, testModelDetails, testModelEntry, testPlanSummary } from './fixtures'

export interface Recorded {
  readonly method: string
  readonly args: readonly unknown[]
}

/**
 * The engine's side of the app as plain recording objects implementing the backend interfaces:
 * every call is recorded and answered with a small valid value.
 */
export function recordingBackends(): {
  backends: EngineBackends
  calls: Recorded[]
  library: { notifyChanged(): void; notifyProgress(p: z.infer<typeof LibraryProgress>): void; folders(): readonly string[] }
} {
  const calls: Recorded[] = []
  const listeners = new Set<LibraryListener>()
  let folders: readonly string[] = []
  const record = (method: string, ...args: unknown[]): void => void calls.push({ method, args })
  const snapshot = (): LibrarySnapshot => ({ folders: [...folders], entries: folders.map((f) => testModelEntry(`${f}/model.safetensors`)), scanning: false })
  const backends: EngineBackends = {
    library: {
      setFolders(next) {
        record('library.setFolders', next)
        folders = [...next]
      },
      snapshot,
      rescan: () => record('library.rescan'),
      async inspect(path) {
        record('library.inspect', path)
        return testModelDetails(path)
      },
      hash: (paths) => record('library.hash', paths),
      async createDemo(folder) {
        record('library.createDemo', folder)
      },
      subscribe(listener) {
        listeners.add(listener)
        return () => void listeners.delete(listener)
      },
    },
    planner: {
      async preview(recipe) {
        record('planner.preview', recipe)
        return testPlanSummary(recipe)
      },
      async computeBackend() {
        return { name: 'wasm', gpuUnavailableReason: 'tensorflow-gpu: not installed', matMul: 'native (avx2)' }
      },
    },
    architecture: {
      async info(request) {
        record('architecture.info', request)
        return testArchitectureInfo(request.architecture)
      },
    },
  }
  return {
    backends,
    calls,
    library: {
      notifyChanged: () => listeners.forEach((l) => l.changed()),
      notifyProgress: (p) => listeners.forEach((l) => l.progress(p)),
      folders: () => folders,
    },
  }
}

/** Native dialogs answered from a script, recording what was asked. */
export function recordingDesktop(answers: { open?: string[]; save?: string | null } = {}): { desktop: DesktopIntegration; calls: Recorded[] } {
  const calls: Recorded[] = []
  return {
    calls,
    desktop: {
      async openDialog(request) {
        calls.push({ method: 'openDialog', args: [request] })
        return answers.open ?? []
      },
      async saveDialog(request) {
        calls.push({ method: 'saveDialog', args: [request] })
        return answers.save ?? null
      },
      async reveal(path) {
        calls.push({ method: 'reveal', args: [path] })
      },
    },
  }
}
