import { z } from 'zod'

/** How a method's parameter is typed and shown; the builder generates its controls from this. */
export const NumberParamSpec = z.strictObject({
  type: z.enum(['number', 'integer']),
  label: z.string(),
  description: z.string(),
  /** null: the user must give it */
  default: z.number().nullable(),
  /** hard limits: values outside are refused */
  min: z.number().optional(),
  max: z.number().optional(),
  /** the slider range the UI offers (values outside it are still allowed within min/max) */
  ui: z.strictObject({ min: z.number(), max: z.number(), step: z.number() }),
  /** may vary per block / layer / key */
  perBlock: z.boolean(),
  /** one value per input (aligned with inputs a, b, c, ...) */
  perModel: z.boolean(),
})
export const BooleanParamSpec = z.strictObject({
  type: z.literal('boolean'),
  label: z.string(),
  description: z.string(),
  default: z.boolean(),
})
export const EnumParamSpec = z.strictObject({
  type: z.literal('enum'),
  label: z.string(),
  description: z.string(),
  options: z.array(z.strictObject({ value: z.string(), label: z.string(), description: z.string() })).min(1),
  default: z.string(),
})
export const ParamSpec = z.discriminatedUnion('type', [NumberParamSpec, BooleanParamSpec, EnumParamSpec])
export type NumberParamSpec = z.infer<typeof NumberParamSpec>
export type BooleanParamSpec = z.infer<typeof BooleanParamSpec>
export type EnumParamSpec = z.infer<typeof EnumParamSpec>
export type ParamSpec = z.infer<typeof ParamSpec>

/**
 * Cost classes (METHODS.md §1.10): E elementwise, R + whole-tensor reductions, S selection/sorting,
 * F FFT, L dense linear algebra, I iterative, W windowed filter, G whole-model statistic first.
 */
export const CostClass = z.enum(['E', 'R', 'S', 'F', 'L', 'I', 'W', 'G'])
export type CostClass = z.infer<typeof CostClass>

export const InputSpec = z.strictObject({
  /** how many role inputs (a, b, c, ...) the method takes */
  min: z.number().int().positive(),
  /** null: any number */
  max: z.number().int().positive().nullable(),
  base: z.enum(['none', 'optional', 'required']),
  /** what each role means for this method, shown next to the slots */
  roles: z.array(z.string()),
  baseRole: z.string().optional(),
})
export type InputSpec = z.infer<typeof InputSpec>

export const MethodAlias = z.strictObject({
  name: z.string(),
  /** parameters the alias fixes, e.g. slerp_mergekit = slerp with variant "mergekit" */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
})
export type MethodAlias = z.infer<typeof MethodAlias>

export const MethodInfo = z.strictObject({
  id: z.string(),
  aliases: z.array(MethodAlias),
  label: z.string(),
  description: z.string(),
  reference: z.string().optional(),
  inputs: InputSpec,
  params: z.record(z.string(), ParamSpec),
  cost: z.array(CostClass).min(1),
  randomness: z.enum(['deterministic', 'seeded']),
  /** the kernel streams the tensor in chunks; otherwise it holds whole tensors */
  chunked: z.boolean(),
  /** f32 copies of a key's tensor the kernel holds at once, for memory estimates */
  memoryFactor: z.number().positive(),
})
export type MethodInfo = z.infer<typeof MethodInfo>
