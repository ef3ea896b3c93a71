import type { Tf } from '../compute/backend'
import { deriveRng, type Rng } from '../compute/rng'
import type { OutputSink, TensorStream } from '../compute/tensor-stream'
import { numelOf } from '../formats/dtype'
import type { KernelContext, ResolvedParams } from '../methods/types'

/** Elements per chunk: 1 Mi floats (4 MiB) keeps several inputs and the output in cache-friendly buffers. */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 20

export interface KernelContextOptions {
  key: string
  shape: readonly number[]
  params: ResolvedParams
  inputs: readonly TensorStream[]
  base: TensorStream | null
  out: OutputSink
  tf: Tf
  seed: number
  /** identifies the recipe node, so two random nodes on one key draw different streams */
  node: string
  chunkElements?: number
  warn?: (message: string) => void
}

/** The context a kernel runs in; parameters were checked against the method's declaration by completeParams. */
export function makeKernelContext(opts: KernelContextOptions): KernelContext<ResolvedParams> {
  const numel = numelOf(opts.shape)
  const rows = opts.shape.length === 0 ? 1 : opts.shape[0]!
  const rowLength = rows === 0 ? 0 : numel / rows
  return {
    key: opts.key,
    shape: opts.shape,
    numel,
    rows,
    rowLength,
    params: opts.params,
    inputs: opts.inputs,
    base: opts.base,
    out: opts.out,
    tf: opts.tf,
    chunkElements: opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS,
    rng: (stream: number): Rng => deriveRng(opts.seed, opts.key, opts.node, stream),
    warn: opts.warn ?? (() => {}),
  }
}
