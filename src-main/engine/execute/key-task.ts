import type { ComputeBackend } from '../compute/backend'
import { MemorySink, MemoryStream, type OutputSink, type TensorStream } from '../compute/tensor-stream'
import { AmalgamError } from '../errors'
import type { TensorLocator } from '../formats/checkpoint'
import { dtypeSize, isFloatDType, numelOf, type DType, type FloatDType } from '../formats/dtype'
import { writeAtSync } from '../formats/file-io'
import { isContiguous } from '../formats/strides'
import type { TensorReader } from '../formats/tensor-reader'
import { resolveMethod } from '../methods/registry'
import { runKernel, runStatistics, type ModelStatistic } from '../methods/types'
import { loraDelta } from '../lora/lora-delta'
import type { ChannelSlice, Expr, KeyTask, LoraExpr, MethodExpr } from '../plan/types'
import { FileStream, type BufferPool } from './file-stream'
import { DEFAULT_CHUNK_ELEMENTS, makeKernelContext, makeStatisticsContext, type KernelContextOptions } from './kernel-context'
import { ChangeStats, EncodingSink } from './output-sink'

/** Same-dtype copies move this many bytes per read/write pair. */
const COPY_PIECE_BYTES = 16 << 20
/** Per-thread copy buffer (a thread runs one task at a time), kept to spare page faults on every key. */
let copyScratch = new Uint8Array(0)

export interface KeyTaskEnv {
  readonly reader: TensorReader
  /** the `.partial` output file, opened by this thread */
  readonly outputFd: number
  readonly dataStart: number
  readonly seed: number
  readonly chunkElements: number | null
  /** this thread's reusable float buffers */
  readonly buffers: BufferPool
  /** the tfjs backend kernels run on; only merge tasks need it */
  readonly compute: ComputeBackend | null
  /** the statistics passes' values by recipe node, for methods that declare one */
  readonly statistics: Readonly<Record<string, ModelStatistic>>
}

/** What evaluating a key's expression needs (a statistics pass writes no output). */
type EvaluationEnv = Pick<KeyTaskEnv, 'reader' | 'seed' | 'chunkElements' | 'buffers' | 'statistics'>

export interface KeyTaskReport {
  readonly change: { readonly sumAbs: number; readonly elements: number } | null
  readonly warnings: readonly string[]
}

/** Produces one output tensor and writes it at its place in the output file. */
export function runKeyTask(task: KeyTask, env: KeyTaskEnv): KeyTaskReport {
  const numel = numelOf(task.shape)
  if (task.end - task.begin !== numel * dtypeSize(task.dtype)) {
    throw new AmalgamError('INTERNAL', `${task.key}: ${task.end - task.begin} bytes planned for ${numel} ${task.dtype} elements`)
  }
  const action = task.action
  switch (action.kind) {
    case 'copy':
      copyTensor(task, action.source, env)
      return { change: null, warnings: [] }
    case 'position_ids':
      writePositionIds(task, action.length, env)
      return { change: null, warnings: [] }
    case 'merge':
      return mergeKey(task, action.expr, action.slice, env)
  }
}

function copyTensor(task: KeyTask, source: TensorLocator, env: KeyTaskEnv): void {
  const numel = numelOf(task.shape)
  checkElements(task.key, source, numel)
  const position = env.dataStart + task.begin
  if (isStoredAs(source, task.dtype)) {
    const total = task.end - task.begin
    if (copyScratch.length < Math.min(COPY_PIECE_BYTES, total)) copyScratch = new Uint8Array(Math.min(COPY_PIECE_BYTES, total))
    const piece = copyScratch.subarray(0, Math.min(COPY_PIECE_BYTES, total))
    for (let done = 0; done < total; done += piece.length) {
      const bytes = env.reader.readStoredRange(source, done, piece.subarray(0, Math.min(piece.length, total - done)))
      writeAtSync(env.outputFd, bytes, position + done)
    }
    return
  }
  if (isFloatDType(task.dtype) && isFloatDType(source.dtype)) {
    const sink = new EncodingSink(env.outputFd, position, task.dtype, numel, null)
    const chunk = env.chunkElements ?? DEFAULT_CHUNK_ELEMENTS
    const buffer = env.buffers.take(Math.min(chunk, numel))
    try {
      for (let start = 0; start < numel; start += chunk) {
        const end = Math.min(numel, start + chunk)
        sink.write(start, env.reader.readFloat32(source, start, end, buffer))
      }
    } finally {
      env.buffers.give(buffer)
    }
    return
  }
  if (source.dtype === task.dtype) {
    // an integer view that is strided or big-endian: gathered and swapped by the reader
    writeAtSync(env.outputFd, env.reader.readBytes(source), position)
    return
  }
  throw new AmalgamError('INTERNAL', `${task.key}: cannot copy a ${source.dtype} tensor into a ${task.dtype} output`)
}

/** The file already holds exactly the output bytes (a scaled-fp8 tensor never does: its values need the scale). */
function isStoredAs(source: TensorLocator, dtype: DType): boolean {
  return (
    source.dtype === dtype &&
    (source.scale === undefined || source.scale === 1) &&
    source.byteOrder !== 'big' &&
    (source.strides === undefined || isContiguous(source.shape, source.strides))
  )
}

function writePositionIds(task: KeyTask, length: number, env: KeyTaskEnv): void {
  if (task.dtype !== 'I64' || numelOf(task.shape) !== length) {
    throw new AmalgamError('INTERNAL', `${task.key}: position ids are ${length} int64 values, the output is planned as ${task.dtype} ${JSON.stringify(task.shape)}`)
  }
  const bytes = new Uint8Array(length * 8)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < length; i++) view.setBigInt64(i * 8, BigInt(i), true)
  writeAtSync(env.outputFd, bytes, env.dataStart + task.begin)
}

export interface KeyStatisticsReport {
  readonly contribution: Float64Array
  readonly warnings: readonly string[]
}

/** One key's contribution to the statistics pass of recipe node `node` (a method node of the key's merge). */
export function runKeyStatistics(task: KeyTask, node: string, env: EvaluationEnv & { readonly compute: ComputeBackend }): KeyStatisticsReport {
  const action = task.action
  const expr = action.kind === 'merge' ? findNode(action.expr, node) : null
  if (action.kind !== 'merge' || expr === null) throw new AmalgamError('INTERNAL', `${task.key}: the key's merge has no node ${node} to compute statistics for`)
  const shape = action.slice === null ? task.shape : slicedShape(task, action.slice)
  const evaluator = new KeyEvaluator(task.key, shape, env, env.compute)
  try {
    const contribution = evaluator.statistics(expr)
    return { contribution, warnings: evaluator.warnings }
  } finally {
    evaluator.release()
  }
}

/** The method node named `node` in an expression tree, or null. */
function findNode(expr: Expr, node: string): MethodExpr | null {
  if (expr.kind === 'tensor') return null
  if (expr.kind === 'lora') return findNode(expr.model, node)
  if (expr.node === node) return expr
  for (const child of expr.base === null ? expr.inputs : [...expr.inputs, expr.base]) {
    const found = findNode(child, node)
    if (found !== null) return found
  }
  return null
}

function mergeKey(task: KeyTask, expr: MethodExpr, slice: ChannelSlice | null, env: KeyTaskEnv): KeyTaskReport {
  const dtype = task.dtype
  if (!isFloatDType(dtype)) throw new AmalgamError('INTERNAL', `${task.key}: a merged key must have a float dtype, not ${dtype}`)
  if (env.compute === null) throw new AmalgamError('INTERNAL', `${task.key}: no compute backend for a merge`)
  const shape = slice === null ? task.shape : slicedShape(task, slice)
  const evaluator = new KeyEvaluator(task.key, shape, env, env.compute)
  try {
    const stats = slice === null ? mergeStreaming(task, dtype, expr, evaluator, env) : mergeSlice(task, dtype, expr, slice, evaluator, env)
    return { change: { sumAbs: stats.sumAbs, elements: stats.elements }, warnings: [...evaluator.warnings, ...stats.warnings()] }
  } finally {
    evaluator.release()
  }
}

/** The usual case: the result streams chunk by chunk into the output file. */
function mergeStreaming(task: KeyTask, dtype: FloatDType, expr: MethodExpr, evaluator: KeyEvaluator, env: KeyTaskEnv): ChangeStats {
  const { inputs, base } = evaluator.streamsOf(expr)
  // the kernel's own stream of a, when a is a direct input: the statistics re-read what it just read
  const primary = expr.inputs[0]?.kind === 'tensor' ? inputs[0]! : evaluator.streamOf(primaryLeaf(expr))
  const stats = new ChangeStats(primary, dtype)
  evaluator.run(expr, inputs, base, new EncodingSink(env.outputFd, env.dataStart + task.begin, dtype, numelOf(task.shape), stats))
  return stats
}

/** Inpainting: the merge of a's first channels, written into a's full tensor. */
function mergeSlice(task: KeyTask, dtype: FloatDType, expr: MethodExpr, slice: ChannelSlice, evaluator: KeyEvaluator, env: KeyTaskEnv): ChangeStats {
  const merged = evaluator.materialise(expr)
  const stats = new ChangeStats(evaluator.streamOf(primaryLeaf(expr)), dtype)
  stats.add(0, merged)
  checkElements(task.key, slice.full, numelOf(task.shape))
  const full = env.reader.readFloat32(slice.full)
  placeChannels(full, task.shape, slice, merged)
  new EncodingSink(env.outputFd, env.dataStart + task.begin, dtype, full.length, null).write(0, full)
  return stats
}

/**
 * Evaluates a key's expression tree: leaves stream from their files, nested method nodes are
 * computed once per key (by their structural id) into memory and shared by every reference.
 */
class KeyEvaluator {
  readonly warnings: string[] = []
  private readonly numel: number
  private readonly results = new Map<string, Float32Array>()
  private readonly fileStreams: FileStream[] = []

  constructor(
    private readonly key: string,
    private readonly shape: readonly number[],
    private readonly env: EvaluationEnv,
    private readonly compute: ComputeBackend,
  ) {
    this.numel = numelOf(shape)
  }

  streamOf(expr: Expr): TensorStream {
    if (expr.kind === 'method') return new MemoryStream(this.materialise(expr))
    if (expr.kind === 'lora') return new MemoryStream(this.withLoras(expr))
    checkElements(this.key, expr.locator, this.numel)
    const stream = new FileStream(this.env.reader, expr.locator, this.env.buffers)
    this.fileStreams.push(stream)
    return stream
  }

  /** Returns the streams' buffers to the thread's pool once the key is written. */
  release(): void {
    for (const stream of this.fileStreams) stream.release()
  }

  streamsOf(expr: MethodExpr): { inputs: TensorStream[]; base: TensorStream | null } {
    return { inputs: expr.inputs.map((e) => this.streamOf(e)), base: expr.base === null ? null : this.streamOf(expr.base) }
  }

  materialise(expr: MethodExpr): Float32Array {
    const known = this.results.get(expr.id)
    if (known !== undefined) return known
    const { inputs, base } = this.streamsOf(expr)
    const sink = new MemorySink(this.numel)
    this.run(expr, inputs, base, sink)
    this.results.set(expr.id, sink.data)
    return sink.data
  }

  /**
   * The model's tensor with each LoRA delta added (once per key, like a method node). The deltas'
   * matmuls run on the compute backend; the model's values are copied first, as a materialised
   * node may be shared with other references.
   */
  withLoras(expr: LoraExpr): Float32Array {
    const known = this.results.get(expr.id)
    if (known !== undefined) return known
    let out: Float32Array
    if (expr.model.kind === 'tensor') {
      checkElements(this.key, expr.model.locator, this.numel)
      out = this.env.reader.readFloat32(expr.model.locator)
    } else {
      out = (expr.model.kind === 'lora' ? this.withLoras(expr.model) : this.materialise(expr.model)).slice()
    }
    const rows = this.shape[0] ?? 1
    const rowLength = rows === 0 ? 0 : this.numel / rows
    for (const patch of expr.patches) {
      const delta = loraDelta(this.compute.tf, patch.factors, patch.kernel, (loc) => this.env.reader.readFloat32(loc))
      const start = (patch.rows?.start ?? 0) * rowLength
      const length = (patch.rows?.count ?? rows) * rowLength
      if (delta.length !== length || start + length > out.length) {
        throw new AmalgamError('INTERNAL', `${this.key}: a LoRA delta of ${delta.length} elements (${expr.node}) does not fit ${length} elements at ${start} of ${JSON.stringify(this.shape)}`)
      }
      const scale = patch.scale
      for (let i = 0; i < length; i++) out[start + i]! += scale * delta[i]!
    }
    this.results.set(expr.id, out)
    return out
  }

  /** The contribution of this key to `expr`'s statistics pass; its inputs are evaluated as for a merge. */
  statistics(expr: MethodExpr): Float64Array {
    const { method } = resolveMethod(expr.method)
    const { inputs, base } = this.streamsOf(expr)
    const contribution = this.guarded(expr, method.id, () => runStatistics(method, makeStatisticsContext(this.contextOptions(expr, inputs, base))))
    if (contribution === null) throw new AmalgamError('INTERNAL', `${this.key}: ${method.id} (${expr.node}) declares no statistics pass`)
    return contribution
  }

  run(expr: MethodExpr, inputs: readonly TensorStream[], base: TensorStream | null, sink: OutputSink & { readonly elementsWritten: number }): void {
    const { method } = resolveMethod(expr.method)
    const statistic = this.env.statistics[expr.node] ?? null
    if (method.statistics !== undefined && statistic === null) {
      throw new AmalgamError('INTERNAL', `${this.key}: ${method.id} (${expr.node}) runs before its statistics pass`)
    }
    const ctx = makeKernelContext({ ...this.contextOptions(expr, inputs, base), out: sink, statistic })
    this.guarded(expr, method.id, () => runKernel(method, ctx))
    if (sink.elementsWritten !== this.numel) {
      throw new AmalgamError('INTERNAL', `${this.key}: ${method.id} (${expr.node}) wrote ${sink.elementsWritten} of ${this.numel} elements`)
    }
  }

  private contextOptions(expr: MethodExpr, inputs: readonly TensorStream[], base: TensorStream | null): Omit<KernelContextOptions, 'out' | 'statistic'> {
    return {
      key: this.key,
      shape: this.shape,
      params: expr.params,
      inputs,
      base,
      tf: this.compute.tf,
      seed: this.env.seed,
      node: expr.node,
      ...(this.env.chunkElements === null ? {} : { chunkElements: this.env.chunkElements }),
      warn: (message) => {
        if (!this.warnings.includes(message)) this.warnings.push(message)
      },
    }
  }

  /** A method's own failure, named by key and node; AmalgamErrors pass unchanged. */
  private guarded<T>(expr: MethodExpr, id: string, work: () => T): T {
    try {
      return work()
    } catch (err) {
      if (err instanceof AmalgamError) throw err
      throw new AmalgamError('INTERNAL', `${this.key}: ${id} (${expr.node}) failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/** The model the result is built on: the first input, followed down through nested nodes. */
function primaryLeaf(expr: MethodExpr): Expr {
  let node: Expr = expr
  while (node.kind !== 'tensor') {
    if (node.kind === 'lora') {
      node = node.model
      continue
    }
    const first: Expr | undefined = node.inputs[0]
    if (first === undefined) throw new AmalgamError('INTERNAL', `${node.node}: a merge node without inputs`)
    node = first
  }
  return node
}

function checkElements(key: string, locator: TensorLocator, numel: number): void {
  const found = numelOf(locator.shape)
  if (found !== numel) {
    throw new AmalgamError('INTERNAL', `${key}: ${locator.path} holds ${found} elements (${JSON.stringify(locator.shape)}) where ${numel} were planned`)
  }
}

function slicedShape(task: KeyTask, slice: ChannelSlice): number[] {
  const channels = task.shape[slice.dim]
  if (channels === undefined || !(Number.isInteger(slice.count) && slice.count > 0 && slice.count <= channels)) {
    throw new AmalgamError('INTERNAL', `${task.key}: channel slice [0, ${slice.count}) of dimension ${slice.dim} does not fit shape ${JSON.stringify(task.shape)}`)
  }
  return task.shape.map((d, i) => (i === slice.dim ? slice.count : d))
}

/** Writes `merged` (the tensor with `slice.count` channels in dimension `slice.dim`) over those channels of `full`. */
function placeChannels(full: Float32Array, shape: readonly number[], slice: ChannelSlice, merged: Float32Array): void {
  const channels = shape[slice.dim]!
  const inner = numelOf(shape.slice(slice.dim + 1))
  const outer = numelOf(shape.slice(0, slice.dim))
  const run = slice.count * inner
  for (let o = 0; o < outer; o++) full.set(merged.subarray(o * run, (o + 1) * run), o * channels * inner)
}
