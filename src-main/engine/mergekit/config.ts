import { z } from 'zod'

/**
 * The part of mergekit's YAML config Amalgam reads. Objects are loose so that keys Amalgam does
 * not know survive parsing and can be named as not translated instead of vanishing.
 */
const ScalarSetting = z.union([z.number(), z.boolean(), z.string()])

export const MergekitCondition = z.looseObject({
  filter: z.string().nullish(),
  value: z.union([ScalarSetting, z.array(z.number()).min(1)]),
})
export type MergekitCondition = z.infer<typeof MergekitCondition>

/** A parameter: a scalar, a gradient (list of numbers) or conditionals ({filter, value}, first match wins). */
export const MergekitSetting = z.union([ScalarSetting, z.array(z.number()).min(1), z.array(MergekitCondition).min(1)])
export type MergekitSetting = z.infer<typeof MergekitSetting>

export const MergekitParameters = z.record(z.string(), MergekitSetting)
export type MergekitParameters = z.infer<typeof MergekitParameters>

export const MergekitModel = z.looseObject({
  model: z.string().min(1),
  parameters: MergekitParameters.nullish(),
})
export type MergekitModel = z.infer<typeof MergekitModel>

export const MergekitSliceSource = z.looseObject({
  model: z.string().min(1),
  layer_range: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
  parameters: MergekitParameters.nullish(),
})
export type MergekitSliceSource = z.infer<typeof MergekitSliceSource>

export const MergekitSlice = z.looseObject({
  sources: z.array(MergekitSliceSource).min(1),
  base_model: z.string().nullish(),
  parameters: MergekitParameters.nullish(),
})
export type MergekitSlice = z.infer<typeof MergekitSlice>

export const MergekitConfig = z.looseObject({
  merge_method: z.string().min(1),
  base_model: z.string().nullish(),
  models: z.array(MergekitModel).min(1).nullish(),
  slices: z.array(MergekitSlice).min(1).nullish(),
  parameters: MergekitParameters.nullish(),
  dtype: z.string().nullish(),
  out_dtype: z.string().nullish(),
  tokenizer_source: z.string().nullish(),
})
export type MergekitConfig = z.infer<typeof MergekitConfig>

/** Top-level keys the importer reads; any other key is named as not translated. */
export const KNOWN_CONFIG_KEYS: ReadonlySet<string> = new Set(['merge_method', 'base_model', 'models', 'slices', 'parameters', 'dtype', 'out_dtype', 'tokenizer_source'])
/** Keys that do not change the merged tensors (model card and chat metadata): reported as notes only. */
export const METADATA_KEYS: ReadonlySet<string> = new Set(['name', 'chat_template'])

/** mergekit dtype names (torch names) ↔ Amalgam's output dtypes. */
export const DTYPES: Readonly<Record<string, 'fp32' | 'fp16' | 'bf16'>> = {
  float32: 'fp32',
  float16: 'fp16',
  bfloat16: 'bf16',
}
