import { z } from 'zod'
import { parse as parseYaml } from 'yaml'
import type { Architecture } from '../../common/model-entry'
import type { PredictionType } from '../../common/recipe'

/**
 * What a diffusion checkpoint predicts, and the evidence. Precedence: marker keys, then an A1111
 * sidecar .yaml, then safetensors metadata, then what the architecture implies. Flow-matching
 * architectures (SD3, Flux) are flow whatever a file claims. SD1 is eps and SDXL base eps unless
 * evidence says otherwise; SD2 without evidence stays unknown, because 512-base (eps) and 768-v (v)
 * have identical keys and shapes.
 */
export interface PredictionFinding {
  readonly predictionType: PredictionType
  readonly predictionSource: string | null
}

interface Evidence {
  readonly type: PredictionType
  readonly source: string
}

export interface PredictionHints {
  readonly sidecarYaml?: string | null
  readonly metadata?: Readonly<Record<string, string>>
}

const DIFFUSION_ARCHITECTURES: readonly Architecture[] = ['sd1', 'sd2', 'sdxl', 'sdxl-refiner', 'sd3', 'flux']

export function findPrediction(architecture: Architecture, keys: ReadonlySet<string>, hints: PredictionHints, notes: string[]): PredictionFinding {
  if (!DIFFUSION_ARCHITECTURES.includes(architecture)) return { predictionType: 'unknown', predictionSource: null }
  if (keys.has('ztsnr')) notes.push('marker key ztsnr: trained with zero terminal SNR')
  const evidence = [
    markerEvidence(keys),
    hints.sidecarYaml != null ? sidecarEvidence(hints.sidecarYaml, notes) : null,
    metadataEvidence(hints.metadata ?? {}, notes),
  ].filter((e): e is Evidence => e !== null)

  const chosen = architecture === 'sd3' || architecture === 'flux' ? { type: 'flow' as const, source: 'architecture (flow matching)' } : (evidence[0] ?? architectureDefault(architecture, notes))
  if (chosen === null) return { predictionType: 'unknown', predictionSource: null }
  for (const e of evidence) {
    if (e.type !== chosen.type) notes.push(`${e.source} says ${e.type}, but ${chosen.source} says ${chosen.type}; using ${chosen.type}`)
  }
  return { predictionType: chosen.type, predictionSource: chosen.source }
}

function markerEvidence(keys: ReadonlySet<string>): Evidence | null {
  if (keys.has('v_pred')) return { type: 'v', source: 'marker key v_pred' }
  if (keys.has('edm_vpred.sigma_min') || keys.has('edm_vpred.sigma_max')) return { type: 'v', source: 'marker keys edm_vpred.* (EDM v-prediction)' }
  return null
}

const Sidecar = z.object({ model: z.object({ params: z.object({ parameterization: z.string().optional() }) }) })

/** A1111 reads `model.params.parameterization` from `<checkpoint>.yaml`; LDM's default without it is eps. */
function sidecarEvidence(text: string, notes: string[]): Evidence | null {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch {
    notes.push('the sidecar .yaml is not valid YAML; ignored')
    return null
  }
  const parsed = Sidecar.safeParse(doc)
  if (!parsed.success) {
    notes.push('the sidecar .yaml has no model.params section; ignored')
    return null
  }
  const value = parsed.data.model.params.parameterization
  if (value === undefined) return { type: 'eps', source: 'sidecar .yaml (no parameterization: the LDM default, eps)' }
  const type = predictionFromName(value)
  if (type === null) {
    notes.push(`the sidecar .yaml names an unknown parameterization ${JSON.stringify(value)}; ignored`)
    return null
  }
  return { type, source: `sidecar .yaml (parameterization: ${value})` }
}

function metadataEvidence(metadata: Readonly<Record<string, string>>, notes: string[]): Evidence | null {
  const declared = metadata['modelspec.prediction_type']
  if (declared !== undefined) {
    const type = predictionFromName(declared)
    if (type !== null) return { type, source: `metadata modelspec.prediction_type (${declared})` }
    notes.push(`metadata modelspec.prediction_type ${JSON.stringify(declared)} is not a known prediction type; ignored`)
  }
  // ModelSpec names the two SD2 flavours in the architecture id
  const architecture = metadata['modelspec.architecture']
  if (architecture?.startsWith('stable-diffusion-v2-768-v')) return { type: 'v', source: `metadata modelspec.architecture (${architecture})` }
  if (architecture?.startsWith('stable-diffusion-v2-512')) return { type: 'eps', source: `metadata modelspec.architecture (${architecture})` }
  return null
}

function architectureDefault(architecture: Architecture, notes: string[]): Evidence | null {
  if (architecture === 'sd1') return { type: 'eps', source: 'architecture (SD1 is eps)' }
  if (architecture === 'sdxl' || architecture === 'sdxl-refiner') return { type: 'eps', source: 'architecture (SDXL is eps unless a marker or .yaml says v)' }
  notes.push('SD2 512-base (eps) and 768-v (v) have the same keys; put the .yaml next to the file or set the prediction type in the recipe')
  return null
}

function predictionFromName(value: string): PredictionType | null {
  const v = value.trim().toLowerCase()
  if (['v', 'v_prediction', 'v-prediction', 'vpred', 'v_pred', 'velocity'].includes(v)) return 'v'
  if (v === 'eps' || v === 'epsilon') return 'eps'
  if (v.includes('flow')) return 'flow'
  return null
}
