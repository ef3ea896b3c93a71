import { loadComputeBackend, type ComputeBackend } from '../../src-main/engine/compute/backend'
import { MemorySink, MemoryStream } from '../../src-main/engine/compute/tensor-stream'
import { makeKernelContext } from '../../src-main/engine/execute/kernel-context'
import { completeParams, type ScalarParam } from '../../src-main/engine/methods/params'
import { resolveMethod } from '../../src-main/engine/methods/registry'
import { runKernel, type ModelStatistic } from '../../src-main/engine/methods/types'
import { numelOf } from '../../src-main/engine/formats/dtype'

let backend: Promise<ComputeBackend> | null = null

/** The backend tests run kernels on (wasm here; CI has no GPU). */
export function testBackend(): Promise<ComputeBackend> {
  backend ??= loadComputeBackend(process.env.AMALGAM_BACKEND ?? 'wasm')
  return backend
}

export interface RunMethodOptions {
  inputs: readonly (Float32Array | readonly number[])[]
  base?: Float32Array | readonly number[]
  /** defaults to a 1-D tensor of the inputs' length */
  shape?: readonly number[]
  params?: Readonly<Record<string, ScalarParam>>
  seed?: number
  key?: string
  /** small chunks exercise the multi-chunk paths of streaming kernels */
  chunkElements?: number
  /** the model-level values a method with a statistics pass receives (runRecipe computes them for real) */
  statistic?: ModelStatistic
}

export interface RunMethodResult {
  output: Float32Array
  warnings: string[]
}

/** Runs one method's kernel on in-memory tensors, exactly as the executor does for one key. */
export async function runMethod(name: string, opts: RunMethodOptions): Promise<RunMethodResult> {
  const { tf } = await testBackend()
  const resolved = resolveMethod(name)
  const toF32 = (x: Float32Array | readonly number[]): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x))
  const inputs = opts.inputs.map(toF32)
  const shape = opts.shape ?? [inputs[0]!.length]
  const numel = numelOf(shape)
  for (const [i, x] of inputs.entries()) if (x.length !== numel) throw new Error(`input ${i} has ${x.length} elements, shape says ${numel}`)
  const sink = new MemorySink(numel)
  const warnings: string[] = []
  const tensorsBefore = tf.memory().numTensors
  const ctx = makeKernelContext({
    key: opts.key ?? 'model.diffusion_model.test.weight',
    shape,
    params: completeParams(resolved, opts.params ?? {}, inputs.length),
    inputs: inputs.map((x) => new MemoryStream(x)),
    base: opts.base ? new MemoryStream(toF32(opts.base)) : null,
    out: sink,
    tf,
    seed: opts.seed ?? 0,
    node: 'root',
    ...(opts.chunkElements ? { chunkElements: opts.chunkElements } : {}),
    warn: (m) => warnings.push(m),
    ...(opts.statistic ? { statistic: opts.statistic } : {}),
  })
  runKernel(resolved.method, ctx)
  if (sink.elementsWritten !== numel) throw new Error(`${name} wrote ${sink.elementsWritten} of ${numel} elements`)
  const leaked = tf.memory().numTensors - tensorsBefore
  if (leaked !== 0) throw new Error(`${name} leaked ${leaked} tfjs tensors`)
  return { output: sink.data, warnings }
}
