import type { Tf } from '../compute/backend'
import { deriveRng, type Rng } from '../compute/rng'
import type { OutputSink, TensorStream } from '../compute/tensor-stream'
import { numelOf } from '../formats/dtype'
import type { KernelContext, ModelStatistic, ResolvedParams, StatisticsContext } from '../methods/types'

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
  /** the node's statistics-pass values, for methods that declare one */
  statistic?: ModelStatistic | null
}

/** The context a kernel runs in; parameters were checked against the method's declaration by completeParams. */
export function makeKernelContext(opts: KernelContextOptions): KernelContext<ResolvedParams> {
  return { ...makeStatisticsContext(opts), out: opts.out, statistic: opts.statistic ?? null }
}

/** The context of a statistics pass over one key: the kernel's, without an output. */
export function makeStatisticsContext(opts: Omit<KernelContextOptions, 'out' | 'statistic'>): StatisticsContext<ResolvedParams> {
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
    tf: opts.tf,
    chunkElements: opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS,
    rng: (stream: number): Rng => deriveRng(opts.seed, opts.key, opts.node, stream),
    warn: opts.warn ?? (() => {}),
  }
}
