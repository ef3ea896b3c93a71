import type { ComponentChoice } from '../../common/recipe'
import { COMPONENT_IDS, componentsOf, type ComponentId } from '../arch/components'
import type { Detection } from '../arch/detection-types'
import { AmalgamError } from '../errors'

/**
 * What happens to each component when the recipe does not say: the model itself (UNet or
 * transformer) and the text encoders are merged; the VAE and the noise-schedule buffers come from a;
 * EMA weights and training leftovers are dropped. Files Amalgam does not recognise (and lone
 * components) are all "leftovers", and merging them is the point, so there leftovers are merged.
 * `markers` ("merge") means: follow the output's prediction type (markers are never interpolated).
 */
export function defaultChoice(component: ComponentId, detection: Pick<Detection, 'architecture'>): ComponentChoice {
  switch (component) {
    case 'vae':
    case 'scheduler':
      return { take: 0 }
    case 'ema':
      return 'drop'
    case 'leftovers':
      return detection.architecture === 'unknown' || detection.architecture === 'component' ? 'merge' : 'drop'
    default:
      return 'merge'
  }
}

/**
 * The choice for every component the primary model has (or its architecture lists), recipe choices
 * first, checked: known component ids only, `take` naming an existing input, files for the VAE only.
 */
export function resolveComponents(
  given: Readonly<Record<string, ComponentChoice>>,
  detection: Pick<Detection, 'architecture' | 'variant' | 'components'>,
  inputCount: number,
): Map<ComponentId, ComponentChoice> {
  const known = new Set<ComponentId>([...componentsOf(detection.architecture, detection.variant), ...detection.components.map((c) => c.id).filter(isComponentId)])
  for (const [name, choice] of Object.entries(given)) {
    if (!isComponentId(name) || !known.has(name)) {
      throw new AmalgamError('BAD_RECIPE', `components.${name}: ${detection.architecture} models have no component "${name}" (components: ${[...known].join(', ')})`)
    }
    if (typeof choice === 'object' && 'take' in choice && choice.take >= inputCount) {
      throw new AmalgamError('BAD_RECIPE', `components.${name}.take: there is no input ${choice.take} (the merge has ${inputCount} inputs, 0 = a)`)
    }
    if (typeof choice === 'object' && 'file' in choice && name !== 'vae') {
      throw new AmalgamError('BAD_RECIPE', `components.${name}.file: only the VAE can come from a separate file`)
    }
  }
  const choices = new Map<ComponentId, ComponentChoice>()
  for (const id of known) choices.set(id, given[id] ?? defaultChoice(id, detection))
  return choices
}

function isComponentId(name: string): name is ComponentId {
  return (COMPONENT_IDS as readonly string[]).includes(name)
}
