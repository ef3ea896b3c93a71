import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { useNativeMatMul } from './native-matmul'

export type Tf = typeof tf
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'

export interface ComputeBackend {
  readonly tf: Tf
  readonly name: BackendName
  /** why the GPU is not used (null when it is) */
  readonly gpuUnavailableReason: string | null
  /** who computes matrix products: the backend itself, or on wasm the native addon (and if not, why) */
  readonly matMul: string
}

const PREFERENCE: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']

/**
 * Picks the fastest tfjs backend that loads here: tfjs-node-gpu, tfjs-node, wasm (SIMD), cpu.
 * The native packages are optional dependencies that often cannot install (they download
 * libtensorflow), so each is tried with a dynamic import and its failure becomes the reported reason.
 * AMALGAM_BACKEND=wasm|cpu|tensorflow|tensorflow-gpu pins the choice (tests pin wasm).
 */
export async function loadComputeBackend(preferred: string | undefined = process.env.AMALGAM_BACKEND): Promise<ComputeBackend> {
  const order = preferred ? PREFERENCE.filter((b) => b === preferred) : PREFERENCE
  if (preferred && order.length === 0) {
    throw new Error(`AMALGAM_BACKEND=${preferred}: expected one of ${PREFERENCE.join(', ')}`)
  }
  const reasons: string[] = []
  let gpuReason: string | null = preferred && preferred !== 'tensorflow-gpu' ? `AMALGAM_BACKEND=${preferred}` : null
  for (const name of order) {
    try {
      await activate(name)
      if (name === 'tensorflow-gpu') gpuReason = null
      const gpuUnavailableReason = name === 'tensorflow-gpu' ? null : (gpuReason ?? reasons[0] ?? 'not tried')
      return { tf, name, gpuUnavailableReason, matMul: describeMatMul(name) }
    } catch (err) {
      const reason = `${name}: ${summarise(err)}`
      reasons.push(reason)
      if (name === 'tensorflow-gpu') gpuReason = reason
    }
  }
  throw new Error(`no compute backend could start (${reasons.join('; ')})`)
}

function describeMatMul(name: BackendName): string {
  if (name !== 'wasm') return name
  const native = useNativeMatMul(tf)
  return native.active ? `native (${native.kernel})` : `wasm (${native.reason})`
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node'
    try {
      await import(/* @vite-ignore */ pkg)
    } catch (err) {
      throw new Error(isMissingModule(err) ? 'not installed' : `load error: ${summarise(err)}`, { cause: err })
    }
    if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise')
    if (name === 'tensorflow-gpu' && !hasGpuDevice()) throw new Error('no CUDA device or runtime found')
    return
  }
  if (!(await tf.setBackend(name))) throw new Error('backend did not initialise')
  await tf.ready()
}

function hasGpuDevice(): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; its binding reports devices.
  const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }
  return backend.binding?.isUsingGpuDevice?.() ?? false
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}

function summarise(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n')[0]!.slice(0, 200)
}
