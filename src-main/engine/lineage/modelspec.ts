import type { PredictionType } from '../../common/recipe'

/*
 * Stability AI's model metadata standard ("SAI Model Spec", github.com/Stability-AI/ModelSpec): keys
 * prefixed `modelspec.` in `__metadata__` that tell UIs what a file is. Architecture ids come from the
 * spec's listing and the ids its main consumers write (ComfyUI, kohya's trainers, SwarmUI).
 */

export const MODELSPEC_VERSION = '1.0.1'

export interface ModelSpecIdentity {
  readonly architecture: string
  readonly implementation: string
  /** the base resolution, `(width)x(height)` */
  readonly resolution: string
}

const SGM = 'https://github.com/Stability-AI/generative-models'
const BFL = 'https://github.com/black-forest-labs/flux'

/**
 * The ModelSpec identity of an Amalgam architecture (model-entry.ts: sd1, sd2, sdxl, ...), or null
 * for kinds the spec has no id for (LLMs, components). SD2 needs the prediction type: v-prediction
 * is the 768 model, which needs different inference code.
 */
export function modelSpecIdentity(architecture: string, variant: string | null, predictionType: PredictionType, layout: string | null): ModelSpecIdentity | null {
  const identity = (id: string, implementation: string, side: number): ModelSpecIdentity => ({
    architecture: id,
    implementation: layout === 'diffusers' ? 'diffusers' : implementation,
    resolution: `${side}x${side}`,
  })
  switch (architecture) {
    case 'sd1':
      return identity('stable-diffusion-v1', SGM, 512)
    case 'sd2':
      return predictionType === 'v' ? identity('stable-diffusion-v2-768-v', SGM, 768) : identity('stable-diffusion-v2-512', SGM, 512)
    case 'sdxl':
      return identity('stable-diffusion-xl-v1-base', SGM, 1024)
    case 'sdxl-refiner':
      return identity('stable-diffusion-xl-v1-refiner', SGM, 1024)
    case 'sd3':
      return identity(variant === 'large' ? 'stable-diffusion-v3.5-large' : 'stable-diffusion-v3-medium', SGM, 1024)
    case 'flux':
      return identity(variant === 'schnell' ? 'Flux.1-schnell' : 'Flux.1-dev', BFL, 1024)
    default:
      return null
  }
}

/** modelspec.prediction_type: the spec names `epsilon` and `v`; other kinds are left unsaid. */
export function modelSpecPredictionType(predictionType: PredictionType): string | null {
  return predictionType === 'eps' ? 'epsilon' : predictionType === 'v' ? 'v' : null
}
