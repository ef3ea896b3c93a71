import { hasRoot, transformerRoots } from './components'
import type { Detection } from './detection-types'

/**
 * Key normalisation: the same tensor can be spelled differently by different files of one
 * architecture. The canonical spelling is the prefixed single-file one (what ComfyUI and A1111
 * write): `model.diffusion_model.` for DiT transformers, `cond_stage_model.transformer.text_model.`
 * for SD1's CLIP. Block conventions and the planner work on canonical keys; outputs are written back
 * in the primary input's own spelling.
 */

const DIFFUSION_PREFIX = 'model.diffusion_model.'
const SD1_CLIP_PREFIX = 'cond_stage_model.transformer.'
const SD1_CLIP_CANONICAL = `${SD1_CLIP_PREFIX}text_model.`
const SD1_LEGACY_CLIP = /^cond_stage_model\.transformer\.(embeddings|encoder|final_layer_norm)\./

type KeyContext = Pick<Detection, 'architecture' | 'keyStyle'>

/** The canonical spelling of `key` in a file with this detection. */
export function canonicalKey(detection: Pick<Detection, 'architecture'>, key: string): string {
  if (hasRoot(key, transformerRoots(detection.architecture))) return DIFFUSION_PREFIX + key
  if (detection.architecture === 'sd1' && SD1_LEGACY_CLIP.test(key)) return SD1_CLIP_CANONICAL + key.slice(SD1_CLIP_PREFIX.length)
  return key
}

/** A canonical key spelled the way this file spells its keys (the inverse of canonicalKey for the file's style). */
export function styledKey(detection: KeyContext, canonical: string): string {
  const { architecture, keyStyle } = detection
  if (keyStyle.bareTransformer && canonical.startsWith(DIFFUSION_PREFIX)) {
    const bare = canonical.slice(DIFFUSION_PREFIX.length)
    if (hasRoot(bare, transformerRoots(architecture))) return bare
  }
  if (keyStyle.legacyClipNames && architecture === 'sd1' && canonical.startsWith(SD1_CLIP_CANONICAL)) {
    return SD1_CLIP_PREFIX + canonical.slice(SD1_CLIP_CANONICAL.length)
  }
  return canonical
}

/** The style of a file: computed once by detection from its keys. */
export function keyStyleOf(architecture: Detection['architecture'], keys: readonly string[]): Detection['keyStyle'] {
  const roots = transformerRoots(architecture)
  return {
    bareTransformer: roots.length > 0 && keys.some((k) => hasRoot(k, roots)),
    legacyClipNames: architecture === 'sd1' && keys.some((k) => SD1_LEGACY_CLIP.test(k)),
  }
}

export type Alignment = { readonly alignable: true } | { readonly alignable: false; readonly reason: string }

/**
 * Whether two files' keys can be lined up by canonicalKey. Diffusers names (down_blocks.N, ...)
 * split and rename tensors relative to the single-file layouts; no conversion exists yet.
 */
export function alignment(a: Pick<Detection, 'layout'>, b: Pick<Detection, 'layout'>): Alignment {
  if ((a.layout === 'diffusers') === (b.layout === 'diffusers')) return { alignable: true }
  return {
    alignable: false,
    reason: 'one input uses diffusers tensor names and the other single-file names; converting between them is not supported yet',
  }
}
