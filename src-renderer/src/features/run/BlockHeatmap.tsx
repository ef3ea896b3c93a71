import type { BlockStat } from '../../../../src-main/common/lineage'
import { formatValue } from '../../app/format'
import { useArchitectureInfo } from '../builder/architecture-store'
import { BlockLayout, type Block } from '../builder/blocks/BlockLayout'

/**
 * How much each block moved away from model a (mean |output − a|), laid out like the block editor.
 * Without the architecture's layout (unknown convention) the blocks are shown as one strip.
 */
export function BlockHeatmap({ stats, architecture, convention }: { stats: readonly BlockStat[]; architecture: string; convention: { name: string; version: string } | null }) {
  const arch = useArchitectureInfo(stats.length === 0 ? null : { architecture, ...(convention ? { convention } : {}) })
  if (stats.length === 0) return <p className="text-xs text-neutral-500">No per-block statistics were recorded for this merge.</p>
  const byId = new Map(stats.map((s) => [s.block, s]))
  const max = Math.max(...stats.map((s) => s.meanAbsChange), Number.MIN_VALUE)
  const blocks: readonly Block[] =
    arch?.status === 'ok' ? arch.info.blocks.filter((b) => byId.has(b.id)) : stats.map((s, i) => ({ id: s.block, group: 'blocks', t: stats.length <= 1 ? 0 : i / (stats.length - 1), keys: 0 }))
  return (
    <div className="flex flex-col gap-1">
      <BlockLayout
        label="Change per block"
        dense
        blocks={blocks}
        cell={(b) => {
          const stat = byId.get(b.id)
          const f = stat ? stat.meanAbsChange / max : 0
          return (
            <div
              role="img"
              aria-label={`${b.id}: mean change ${stat ? formatValue(stat.meanAbsChange) : 'not recorded'}`}
              title={stat ? `${b.id}: mean |Δ| ${formatValue(stat.meanAbsChange)} over ${stat.elements} elements` : b.id}
              className="truncate rounded px-1 py-0.5 font-mono text-[10px] text-white"
              style={{ backgroundColor: `hsl(${200 - 170 * f} 75% ${14 + 34 * f}%)` }}
            >
              {b.id}
            </div>
          )
        }}
      />
      <p className="text-[11px] text-neutral-500">Brighter and warmer = the block moved further from model a (largest: {formatValue(max)}).</p>
    </div>
  )
}
