import { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { broadcast_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core'
import type { Tf } from './backend'
import { nativeAddon, type NativeAddon } from './native-addon'

export type NativeMatMulStatus = { readonly active: true; readonly kernel: string } | { readonly active: false; readonly reason: string }

let status: NativeMatMulStatus | null = null

/**
 * Routes the wasm backend's matrix products (tfjs kernel BatchMatMul) to the native addon built by
 * `npm install` (scripts/build-native.mjs), about 5x faster than tfjs's single-threaded wasm kernel.
 * Everything else stays on wasm; products the addon does not take (other dtypes, batch shapes that
 * broadcast both ways) still go to the original kernel. AMALGAM_NATIVE=off keeps tfjs's kernel, for
 * comparisons. Other backends (tfjs-node, GPU) have fast products of their own and are left alone.
 */
export function useNativeMatMul(tf: Tf): NativeMatMulStatus {
  if (status !== null) return status
  const addon = nativeAddon()
  if ('reason' in addon) return (status = { active: false, reason: addon.reason })
  const original = tf.getKernel('BatchMatMul', 'wasm')
  if (original === undefined) return (status = { active: false, reason: 'the wasm backend has no BatchMatMul kernel to replace' })
  const kernelFunc: KernelFunc = (args) => nativeBatchMatMul(args, addon.addon) ?? original.kernelFunc(args)
  const replacement: KernelConfig = { ...original, kernelFunc }
  tf.unregisterKernel('BatchMatMul', 'wasm')
  tf.registerKernel(replacement)
  return (status = { active: true, kernel: addon.addon.kernel() })
}

/** whether matMul on the current backend runs natively (then transposed operands cost nothing extra) */
export function nativeMatMulActive(tf: Tf): boolean {
  return status?.active === true && tf.getBackend() === 'wasm'
}

function nativeBatchMatMul(args: Parameters<KernelFunc>[0], addon: NativeAddon): TensorInfo | null {
  const { inputs, backend, attrs } = args
  const { a, b } = inputs
  if (!(backend instanceof BackendWasm) || a === undefined || b === undefined) return null
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null
  const transposeA = attrs?.transposeA === true
  const transposeB = attrs?.transposeB === true
  const [aRows, aCols] = a.shape.slice(-2) as [number, number]
  const [bRows, bCols] = b.shape.slice(-2) as [number, number]
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols]
  const [kB, n] = transposeB ? [bCols, bRows] : [bRows, bCols]
  // the original kernel reports mismatches in tfjs's words
  if (k !== kB) return null
  const outerA = a.shape.slice(0, -2)
  const outerB = b.shape.slice(0, -2)
  const batchA = outerA.reduce((p, s) => p * s, 1)
  const batchB = outerB.reduce((p, s) => p * s, 1)
  // equal batches, or one operand shared by every batch; two-way broadcasting is left to tfjs
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB)
  const out = backend.makeOutput([...outer, m, n], 'float32')
  // views are taken after makeOutput: allocating may grow (and so move) the wasm heap
  const aData = backend.typedArrayFromHeap(a)
  const bData = backend.typedArrayFromHeap(b)
  const cData = backend.typedArrayFromHeap(out)
  if (!(aData instanceof Float32Array && bData instanceof Float32Array && cData instanceof Float32Array)) {
    backend.disposeData(out.dataId)
    return null
  }
  const batches = Math.max(batchA, batchB)
  try {
    for (let i = 0; i < batches; i++) {
      const ia = batchA === 1 ? 0 : i
      const ib = batchB === 1 ? 0 : i
      addon.gemm(
        transposeA,
        transposeB,
        m,
        n,
        k,
        aData.subarray(ia * m * k, (ia + 1) * m * k),
        bData.subarray(ib * k * n, (ib + 1) * k * n),
        cData.subarray(i * m * n, (i + 1) * m * n),
      )
    }
  } catch (err) {
    backend.disposeData(out.dataId)
    throw err
  }
  return out
}
