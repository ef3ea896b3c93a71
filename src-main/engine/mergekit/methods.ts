/**
 * Which mergekit merge methods have an Amalgam counterpart, how their models become the node's
 * inputs and base, and how their parameters are named. One table serves import and export.
 */

/**
 * all: every model is an input (linear). base-first: base_model is input a, the other model b
 * (slerp). optional-base: the models are the inputs, base_model (if any) the base (nuslerp).
 * base: the non-base models are the inputs, base_model the base (task arithmetic family,
 * model_stock). single: one model, copied (passthrough).
 */
export type Roles = 'all' | 'base-first' | 'optional-base' | 'base' | 'single'

/**
 * per-model: one value per input (mergekit `models[i].parameters`, with the global value as fallback);
 * global: one value for the node; flag: a boolean; switch: a boolean that becomes on/off of an
 * auto|on|off enum; ignored: accepted, changes nothing in Amalgam's float32 computation.
 */
export type ParamKind = 'per-model' | 'global' | 'flag' | 'switch' | 'ignored'

export interface ParamMapping {
  readonly name: string
  readonly kind: ParamKind
}

export interface MethodMapping {
  readonly mergekit: string
  /** the method name written to the recipe (an id or alias) */
  readonly amalgam: string
  /** parameters the recipe node gets besides the translated ones */
  readonly fixed: Readonly<Record<string, string>>
  readonly roles: Roles
  readonly params: Readonly<Record<string, ParamMapping>>
}

const GTA_PARAMS: Readonly<Record<string, ParamMapping>> = {
  weight: { name: 'weight', kind: 'per-model' },
  density: { name: 'density', kind: 'per-model' },
  gamma: { name: 'gamma', kind: 'per-model' },
  epsilon: { name: 'epsilon', kind: 'per-model' },
  lambda: { name: 'lambda', kind: 'global' },
  normalize: { name: 'normalize', kind: 'switch' },
  rescale: { name: 'rescale', kind: 'switch' },
  int8_mask: { name: 'int8_mask', kind: 'ignored' },
}

const GTA_VARIANTS = ['task_arithmetic', 'ties', 'dare_ties', 'dare_linear', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear'] as const

export const METHOD_MAPPINGS: readonly MethodMapping[] = [
  { mergekit: 'linear', amalgam: 'linear', fixed: {}, roles: 'all', params: { weight: { name: 'weight', kind: 'per-model' }, normalize: { name: 'normalize', kind: 'flag' } } },
  { mergekit: 'slerp', amalgam: 'slerp', fixed: { variant: 'mergekit' }, roles: 'base-first', params: { t: { name: 'alpha', kind: 'global' } } },
  {
    mergekit: 'nuslerp',
    amalgam: 'nuslerp',
    fixed: {},
    roles: 'optional-base',
    params: {
      weight: { name: 'weight', kind: 'per-model' },
      nuslerp_flatten: { name: 'flatten', kind: 'flag' },
      nuslerp_row_wise: { name: 'row_wise', kind: 'flag' },
    },
  },
  ...GTA_VARIANTS.map((variant): MethodMapping => ({ mergekit: variant, amalgam: variant, fixed: {}, roles: 'base', params: GTA_PARAMS })),
  { mergekit: 'model_stock', amalgam: 'model_stock', fixed: { variant: 'mergekit' }, roles: 'base', params: { filter_wise: { name: 'filter_wise', kind: 'flag' } } },
  { mergekit: 'passthrough', amalgam: 'passthrough', fixed: {}, roles: 'single', params: { scale: { name: 'scale', kind: 'global' } } },
]

export function mappingFor(mergekitMethod: string): MethodMapping | undefined {
  return METHOD_MAPPINGS.find((m) => m.mergekit === mergekitMethod)
}
