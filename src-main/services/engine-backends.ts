import { join } from 'node:path'
import type { ArchitectureInfo } from '../common/ipc'
import { Architecture } from '../common/model-entry'
import { blockGroups, blockPositions, getConvention, listConventions, reportBlocks } from '../engine/arch/blocks'
import { componentsOf } from '../engine/arch/components'
import { canonicalKey } from '../engine/arch/keys'
import { LAYOUT_ARCHITECTURES, referenceLayout, type LayoutArchitecture } from '../engine/arch/layouts'
import { presetsFor } from '../engine/arch/presets'
import { loadComputeBackend } from '../engine/compute/backend'
import { AmalgamError } from '../engine/errors'
import { EntryCache } from '../engine/library/entry-cache'
import { HashCache } from '../engine/library/hash-cache'
import { ModelLibrary } from '../engine/library/model-library'
import { previewRecipe } from '../engine/plan/plan-recipe'
import type { ArchitectureBackend, ComputeBackendInfo, CreateEngineBackends, PlannerBackend } from './backends'
import type { ParsedRequest } from './dispatch'

/**
 * The engine behind the app's services (desktop shell and `amalgam serve`): the model library with
 * its entry cache in the app's data folder and the hash cache shared with the CLI and merges, the
 * planner for the pre-flight check, and the architectures' block data.
 */
export const createEngineBackends: CreateEngineBackends = async ({ dataDir, report }) => ({
  library: new ModelLibrary({ entryCache: new EntryCache(join(dataDir, 'library-cache')), hashCache: new HashCache(), report }),
  planner: plannerBackend(),
  architecture: { info: async (request) => architectureInfo(request) } satisfies ArchitectureBackend,
})

function plannerBackend(): PlannerBackend {
  let backend: Promise<ComputeBackendInfo> | null = null
  return {
    preview: (recipe) => previewRecipe(recipe),
    computeBackend() {
      // loading tfjs takes a moment: once per process, and again only if it failed
      backend ??= loadComputeBackend().then(
        ({ name, gpuUnavailableReason, matMul }) => ({ name, gpuUnavailableReason, matMul }),
        (err: unknown) => {
          backend = null
          throw err
        },
      )
      return backend
    },
  }
}

/** Keys per block of a convention, counted on the architecture's reference layout (real key names). */
const referenceCounts = new Map<string, Readonly<Record<string, number>>>()

function architectureInfo(request: ParsedRequest<'architecture.info'>): ArchitectureInfo {
  const parsed = Architecture.safeParse(request.architecture)
  if (!parsed.success) throw new AmalgamError('BAD_ARGUMENT', `unknown architecture ${JSON.stringify(request.architecture)} (known: ${Architecture.options.join(', ')})`)
  const architecture = parsed.data
  const convention = getConvention(architecture, request.convention?.name, request.convention?.version, request.layers === undefined ? {} : { layers: request.layers })
  const ref = { name: convention.name, version: convention.version }
  const countsKey = `${architecture}\0${ref.name}\0${ref.version}`
  let counts = referenceCounts.get(countsKey)
  if (counts === undefined && isLayoutArchitecture(architecture)) {
    const keys = referenceLayout(architecture).keys.filter((k) => !k.optional).map((k) => canonicalKey({ architecture }, k.name))
    counts = reportBlocks(convention, keys).perBlock
    referenceCounts.set(countsKey, counts)
  }
  const positions = blockPositions(convention.name, convention.blockIds)
  const groups = blockGroups(convention)
  return {
    architecture,
    convention: ref,
    conventions: listConventions(architecture),
    blocks: convention.blockIds.map((id, i) => ({ id, group: groups[i]?.group ?? 'BASE', t: positions[i] ?? 0, keys: counts?.[id] ?? 0 })),
    components: [...componentsOf(architecture)],
    presets: presetsFor(architecture, ref, convention.blockIds).map((p) => ({ id: p.id, name: p.name, source: p.source, values: { ...p.values } })),
  }
}

function isLayoutArchitecture(architecture: string): architecture is LayoutArchitecture {
  return (LAYOUT_ARCHITECTURES as readonly string[]).includes(architecture)
}
