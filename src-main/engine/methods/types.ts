import type { CostClass, MethodInfo } from '../../common/method-info'
import type { OutputSink, TensorStream } from '../compute/tensor-stream'
import type { Rng } from '../compute/rng'
import type { Tf } from '../compute/backend'

/*
 * A merge method is a declaration (what it is, its inputs and typed parameters, its cost) plus a
 * kernel (how one key is computed). The registry (registry.ts) lists every method explicitly.
 */

export interface NumberParam {
  readonly type: 'number' | 'integer'
  readonly label: string
  readonly description: string
  /** null: required, the user must give it */
  readonly default: number | null
  readonly min?: number
  readonly max?: number
  readonly ui: { readonly min: number; readonly max: number; readonly step: number }
  readonly perBlock: boolean
  readonly perModel: boolean
}

export interface BooleanParam {
  readonly type: 'boolean'
  readonly label: string
  readonly description: string
  readonly default: boolean
}

export interface EnumParam<V extends string = string> {
  readonly type: 'enum'
  readonly label: string
  readonly description: string
  readonly options: readonly { readonly value: V; readonly label: string; readonly description: string }[]
  readonly default: NoInfer<V>
}

export type ParamDecl = NumberParam | BooleanParam | EnumParam
export type ParamDecls = Readonly<Record<string, ParamDecl>>

/** The parameter values a kernel receives for one key: every per-block/gradient/regex value already resolved. */
export type ParamsOf<S extends ParamDecls> = {
  readonly [K in keyof S]: S[K] extends { type: 'number' | 'integer'; perModel: true }
    ? readonly number[]
    : S[K] extends { type: 'number' | 'integer' }
      ? number
      : S[K] extends { type: 'boolean' }
        ? boolean
        : S[K] extends EnumParam<infer V>
          ? V
          : never
}

export type ResolvedParams = Readonly<Record<string, number | boolean | string | readonly number[]>>

export interface KernelContext<P> {
  readonly key: string
  readonly shape: readonly number[]
  readonly numel: number
  /** the tensor seen as rows x rowLength: (shape[0], product of the rest); a 0-dim tensor is 1 x 1 */
  readonly rows: number
  readonly rowLength: number
  readonly params: P
  /** role inputs a, b, c, ... in order */
  readonly inputs: readonly TensorStream[]
  readonly base: TensorStream | null
  readonly out: OutputSink
  /** tfjs with the active backend: use it for reductions, selection and linear algebra */
  readonly tf: Tf
  /** elements per chunk for kernels that stream; chunks produced by the helpers are whole rows when rows are short */
  readonly chunkElements: number
  /** the random stream `stream` of this node for this key (stream = model index, by convention) */
  rng(stream: number): Rng
  /** a finding about this key the user should see (NaN produced, degenerate input, ...) */
  warn(message: string): void
  /** the node's model-level values from its statistics pass (null for methods without one) */
  readonly statistic: ModelStatistic | null
}

/** Model-level values computed once per recipe node by a whole-model statistics pass (cost class G). */
export type ModelStatistic = Readonly<Record<string, number>>

/** What a statistics pass sees of one key: the kernel's context without an output. */
export type StatisticsContext<P> = Omit<KernelContext<P>, 'out' | 'statistic'>

/**
 * A first pass over every key the node merges, run before any of them is merged (streamed, in the
 * worker threads): each key contributes a small record, and the records, in file order, combine into
 * the values every key's kernel then receives as ctx.statistic. The values may depend only on global
 * parameters (combine sees no per-key values).
 */
export interface StatisticsPass<P> {
  /** one key's contribution: a few numbers, or one per column; never the tensor itself */
  perKey(ctx: StatisticsContext<P>): Float64Array
  combine(contributions: readonly Float64Array[]): ModelStatistic
}

export interface MethodAliasDecl {
  readonly name: string
  readonly params: Readonly<Record<string, string | number | boolean>>
}

export interface MethodDeclaration<S extends ParamDecls = ParamDecls> {
  /** the family id; upstream variants are a `variant` enum parameter */
  readonly id: string
  /** other names accepted everywhere (CLI included); an alias may fix parameters, e.g. slerp_mergekit */
  readonly aliases: readonly MethodAliasDecl[]
  readonly label: string
  /** one paragraph: what it does and when to use it */
  readonly description: string
  readonly reference?: string
  readonly inputs: {
    readonly min: number
    readonly max: number | null
    readonly base: 'none' | 'optional' | 'required'
    readonly roles: readonly string[]
    readonly baseRole?: string
  }
  readonly params: S
  readonly cost: readonly CostClass[]
  readonly randomness: 'deterministic' | 'seeded'
  /** true when the kernel streams chunks (memory bounded by the chunk), false when it holds whole tensors */
  readonly chunked: boolean
  /** f32 tensors of the key's size (or chunk's, when chunked) held at once, for peak-memory estimates */
  readonly memoryFactor: number
  /** computes one key; declared as a method so declarations with different parameters share one registry type */
  kernel(ctx: KernelContext<ParamsOf<S>>): void
  /** a whole-model statistic the kernel needs (cost class G); absent for per-key methods */
  readonly statistics?: StatisticsPass<ParamsOf<S>>
}

/**
 * Runs a declaration's kernel on a context whose parameters were completed and checked against that
 * same declaration (completeParams), which is what makes the narrowing to ParamsOf<S> sound.
 */
export function runKernel(method: MethodDeclaration, ctx: KernelContext<ResolvedParams>): void {
  method.kernel(ctx as KernelContext<ParamsOf<ParamDecls>>)
}

/** Runs a declaration's statistics pass on one key; the same soundness argument as runKernel. */
export function runStatistics(method: MethodDeclaration, ctx: StatisticsContext<ResolvedParams>): Float64Array | null {
  return method.statistics === undefined ? null : method.statistics.perKey(ctx as StatisticsContext<ParamsOf<ParamDecls>>)
}

/** Declares a method with its parameter types inferred for the kernel. */
export function defineMethod<const S extends ParamDecls>(decl: MethodDeclaration<S>): MethodDeclaration<S> {
  return decl
}

/** The declaration as plain data for the UI and `amalgam methods --json`. */
export function methodInfo(decl: MethodDeclaration): MethodInfo {
  const params: MethodInfo['params'] = {}
  for (const [name, p] of Object.entries(decl.params)) {
    params[name] =
      p.type === 'enum'
        ? { ...p, options: p.options.map((o) => ({ ...o })) }
        : p.type === 'boolean'
          ? { ...p }
          : { ...p, ui: { ...p.ui } }
  }
  return {
    id: decl.id,
    aliases: decl.aliases.map((a) => ({ name: a.name, params: { ...a.params } })),
    label: decl.label,
    description: decl.description,
    ...(decl.reference ? { reference: decl.reference } : {}),
    inputs: { ...decl.inputs, roles: [...decl.inputs.roles] },
    params,
    cost: [...decl.cost],
    randomness: decl.randomness,
    chunked: decl.chunked,
    memoryFactor: decl.memoryFactor,
  }
}
