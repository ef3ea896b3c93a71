import type { ReactNode } from 'react'
import type { BlockInfo } from '../../../../../src-main/common/ipc'
import type { z } from 'zod'
import { cx } from '../../../ui/cx'

export type Block = z.infer<typeof BlockInfo>

/** Human names for the block groups the architectures use. */
const GROUP_LABELS: Readonly<Record<string, string>> = {
  BASE: 'BASE (text encoder and the rest outside the UNet)',
  IN: 'IN (down)',
  M: 'MID',
  OUT: 'OUT (up)',
  double: 'double blocks',
  single: 'single blocks',
  joint: 'joint blocks',
  extra: 'other layers',
  EMBED: 'embeddings',
  layer: 'layers',
  HEAD: 'head',
}

export function groupLabel(group: string): string {
  return GROUP_LABELS[group] ?? group
}

function groupsInOrder(blocks: readonly Block[]): [string, Block[]][] {
  const groups = new Map<string, Block[]>()
  for (const b of blocks) groups.set(b.group, [...(groups.get(b.group) ?? []), b])
  return [...groups]
}

/**
 * Lays blocks out like the network they belong to: the U of an SD UNet (IN down the left, MID at
 * the bottom, OUT back up the right, BASE aside), and for transformers and LLMs a strip per group
 * in block order. The cells (sliders, heat) come from the caller.
 */
export function BlockLayout({ blocks, cell, label, dense }: { blocks: readonly Block[]; cell(block: Block): ReactNode; label: string; dense?: boolean }) {
  const groups = groupsInOrder(blocks)
  const byGroup = new Map(groups)
  const inBlocks = byGroup.get('IN')
  const outBlocks = byGroup.get('OUT')
  if (inBlocks && outBlocks) {
    const mid = byGroup.get('M') ?? []
    const aside = groups.filter(([g]) => g !== 'IN' && g !== 'OUT' && g !== 'M')
    const rows = Math.max(inBlocks.length, outBlocks.length)
    return (
      <div role="group" aria-label={label} className="flex flex-col gap-2">
        {aside.map(([group, list]) => (
          <div key={group} role="group" aria-label={groupLabel(group)} className="flex flex-wrap gap-x-3 gap-y-1">
            {list.map((b) => (
              <div key={b.id} className="w-[calc(33%-0.5rem)]">
                {cell(b)}
              </div>
            ))}
          </div>
        ))}
        <div className="grid grid-cols-3 gap-x-3 gap-y-0.5">
          <div className="text-[11px] text-neutral-500">{groupLabel('IN')}</div>
          <div className="text-center text-[11px] text-neutral-500">{groupLabel('M')}</div>
          <div className="text-right text-[11px] text-neutral-500">{groupLabel('OUT')}</div>
          {Array.from({ length: rows }, (_, r) => {
            const left = inBlocks[r]
            const right = outBlocks[outBlocks.length - 1 - r]
            // MID sits under the deepest IN/OUT pair: the bottom of the U
            const middle = r >= rows - mid.length ? mid[r - (rows - mid.length)] : undefined
            return [
              <div key={`l${r}`}>{left && cell(left)}</div>,
              <div key={`m${r}`}>{middle && cell(middle)}</div>,
              <div key={`r${r}`}>{right && cell(right)}</div>,
            ]
          })}
        </div>
      </div>
    )
  }
  return (
    <div role="group" aria-label={label} className="flex flex-col gap-2">
      {groups.map(([group, list]) => (
        <div key={group} role="group" aria-label={groupLabel(group)}>
          <div className="mb-0.5 text-[11px] text-neutral-500">
            {groupLabel(group)} ({list.length})
          </div>
          <div className={cx('grid gap-x-3 gap-y-0.5', dense ? 'grid-cols-[repeat(auto-fill,minmax(3.5rem,1fr))]' : 'grid-cols-[repeat(auto-fill,minmax(11rem,1fr))]')}>
            {list.map((b) => (
              <div key={b.id}>{cell(b)}</div>
            ))}
          </div>
        </div>
      ))}
    </div>
  )
}
