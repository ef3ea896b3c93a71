import type { LoraDetails } from '../../common/model-entry'
import type { LoraFile, LoraModule, NetworkType } from './lora-file'

type BaseArchitecture = LoraDetails['baseArchitecture']

/** What the library shows of a LoRA file: its base architecture, network, rank, alpha and training metadata. */
export function loraDetails(file: LoraFile): LoraDetails {
  const { modules } = file
  const types = new Set<NetworkType>(modules.map((m) => m.factors.type))
  const kohya = modules.filter((m) => m.name === m.fileName).length
  return {
    baseArchitecture: baseArchitectureOf(file),
    networkTypes: (['lora', 'loha', 'lokr'] as const).filter((t) => types.has(t)),
    naming: kohya === modules.length ? 'kohya' : kohya === 0 ? 'diffusers' : 'mixed',
    modules: modules.length,
    rank: mostCommon(modules.map((m) => m.rank)),
    alpha: mostCommon(modules.map((m) => m.alpha)),
    conv: modules.some(isConv),
    textEncoder: modules.some((m) => /^lora_te\d?_/.test(m.name)),
    unsupportedModules: file.unsupported.length,
    training: Object.fromEntries(Object.entries(file.metadata).filter(([k]) => k.startsWith('ss_'))),
  }
}

function isConv(module: LoraModule): boolean {
  const f = module.factors
  const loc = f.type === 'lora' ? f.down : f.type === 'loha' ? f.w1b : 'whole' in f.w2 ? f.w2.whole : f.w2.b
  return loc.shape.length === 4 && (loc.shape[2] !== 1 || loc.shape[3] !== 1)
}

/**
 * From the module names first (they cannot lie): te2 or LDM-named UNet blocks are SDXL's, BFL or
 * diffusers transformer blocks Flux's; SD1 and SD2 share their names, so kohya's ss_v2 decides.
 */
function baseArchitectureOf(file: LoraFile): BaseArchitecture {
  const names = file.modules.map((m) => m.name)
  const meta = file.metadata
  if (names.some((n) => /^lora_unet_(double|single)_blocks_|^lora_transformer_(single_)?transformer_blocks_/.test(n))) return 'flux'
  if (names.some((n) => n.startsWith('lora_te2_') || /^lora_unet_(input_blocks|output_blocks|middle_block)_/.test(n))) return 'sdxl'
  const version = (meta.ss_base_model_version ?? meta['modelspec.architecture'] ?? '').toLowerCase()
  if (version.includes('xl')) return 'sdxl'
  if (version.includes('flux')) return 'flux'
  if (names.some((n) => /^lora_(unet_(down|up|mid)_block|te_|te1_)/.test(n))) return meta.ss_v2 === 'True' || version.includes('v2') ? 'sd2' : 'sd1'
  return 'unknown'
}

function mostCommon(values: readonly (number | null)[]): number | null {
  const counts = new Map<number, number>()
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: number | null = null
  let bestCount = 0
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v
      bestCount = n
    }
  }
  return best
}
