import type { AppStatus } from '../common/ipc'
import type { PlannerBackend } from './backends'

export interface StatusOptions {
  version: string
  mode: AppStatus['mode']
  planner: PlannerBackend
}

/** app.status: what the renderer needs to adapt (desktop or browser features, the compute backend in use). */
export function createStatus({ version, mode, planner }: StatusOptions): () => Promise<AppStatus> {
  return async () => {
    const { name, gpuUnavailableReason, matMul } = await planner.computeBackend()
    return { version, mode, platform: process.platform, backend: { name, gpuUnavailableReason, matMul } }
  }
}
