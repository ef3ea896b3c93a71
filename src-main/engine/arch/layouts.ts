import { z } from 'zod'
import flux from '../../../resources/layouts/flux1-dev.json' with { type: 'json' }
import sd1 from '../../../resources/layouts/sd1-ldm.json' with { type: 'json' }
import sd2 from '../../../resources/layouts/sd2-ldm.json' with { type: 'json' }
import sd3 from '../../../resources/layouts/sd3-medium.json' with { type: 'json' }
import sdxl from '../../../resources/layouts/sdxl-sgm.json' with { type: 'json' }
import { AmalgamError } from '../errors'
import { isDType, type DType } from '../formats/dtype'

/** Architectures with a reference layout (real key names and shapes of a single-file checkpoint). */
export const LAYOUT_ARCHITECTURES = ['sd1', 'sd2', 'sdxl', 'sd3', 'flux'] as const
export type LayoutArchitecture = (typeof LAYOUT_ARCHITECTURES)[number]

const LayoutKey = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string().refine(isDType, { message: 'unknown dtype' }).transform((d) => d as DType),
  /** the layout file's grouping (unet, text_encoder_l, ...), not Amalgam's component ids */
  component: z.string(),
  optional: z.boolean().default(false),
  /** other spellings of the same tensor (BFL bare names, old SD1 CLIP names) */
  aliases: z.array(z.string()).default([]),
})
export type LayoutKey = z.infer<typeof LayoutKey>

const LayoutFile = z.object({ architecture: z.string(), notes: z.array(z.string()), keys: z.array(LayoutKey).min(1) })
export type ReferenceLayout = z.infer<typeof LayoutFile>

const SOURCES: Readonly<Record<LayoutArchitecture, { readonly file: string; readonly json: unknown }>> = {
  sd1: { file: 'sd1-ldm.json', json: sd1 },
  sd2: { file: 'sd2-ldm.json', json: sd2 },
  sdxl: { file: 'sdxl-sgm.json', json: sdxl },
  sd3: { file: 'sd3-medium.json', json: sd3 },
  flux: { file: 'flux1-dev.json', json: flux },
}

const cache = new Map<LayoutArchitecture, ReferenceLayout>()

/** resources/layouts/<file>, validated on first use. */
export function referenceLayout(architecture: LayoutArchitecture): ReferenceLayout {
  const hit = cache.get(architecture)
  if (hit !== undefined) return hit
  const { file, json } = SOURCES[architecture]
  const parsed = LayoutFile.safeParse(json)
  if (!parsed.success) throw new AmalgamError('INTERNAL', `resources/layouts/${file} is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`)
  cache.set(architecture, parsed.data)
  return parsed.data
}
