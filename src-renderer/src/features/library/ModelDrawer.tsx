import { useEffect, useState } from 'react'
import type { AncestryNode, ModelDetails } from '../../../../src-main/common/ipc'
import { Recipe } from '../../../../src-main/common/recipe'
import { call, type CallError } from '../../app/call'
import { formatBytes, formatCount, formatDate, formatDuration } from '../../app/format'
import { Button } from '../../ui/Button'
import { Dialog } from '../../ui/Dialog'
import { InlineError } from '../../ui/InlineError'
import { useBuilderStore } from '../builder/builder-store'
import { BlockHeatmap } from '../run/BlockHeatmap'
import { PREDICTION_LABELS } from './library-query'
import { useLibraryStore } from './library-store'
import { ModelBadges } from './ModelBadges'

/** Everything known about one model: what it is, its parts, its hashes and, for merges, where it came from. */
export function ModelDrawer() {
  const path = useLibraryStore((s) => s.detailsPath)
  const showDetails = useLibraryStore((s) => s.showDetails)
  if (path === null) return null
  return <Drawer key={path} path={path} onClose={() => showDetails(null)} />
}

function Drawer({ path, onClose }: { path: string; onClose(): void }) {
  const [details, setDetails] = useState<ModelDetails | null>(null)
  const [error, setError] = useState<CallError | null>(null)
  useEffect(() => {
    let live = true
    void call('library.inspect', { path }).then((result) => {
      if (!live) return
      if (result.ok) setDetails(result.value)
      else setError(result.error)
    })
    return () => {
      live = false
    }
  }, [path])
  const name = details?.entry.name ?? path
  return (
    <Dialog title={name} placement="side" onClose={onClose}>
      <InlineError error={error} />
      {!details && !error && <p className="text-xs text-neutral-400">Reading the file…</p>}
      {details && <DetailsView details={details} onClose={onClose} />}
    </Dialog>
  )
}

function DetailsView({ details, onClose }: { details: ModelDetails; onClose(): void }) {
  const { entry, ancestry, lineage } = details
  const load = useBuilderStore((s) => s.load)
  const embedded = entry.recipe === null ? null : Recipe.safeParse(entry.recipe)
  const metadata = Object.entries(entry.metadata).filter(([key]) => key !== 'amalgam_recipe' && key !== 'sd_merge_recipe')
  return (
    <div className="flex flex-col gap-3 text-xs">
      <div className="flex flex-col gap-1">
        <ModelBadges entry={entry} />
        <code className="break-all text-neutral-400">{entry.path}</code>
        {entry.problem && <InlineError error={entry.problem} />}
      </div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
        <dt className="text-neutral-500">Format</dt>
        <dd>
          {entry.format}, {entry.layout} layout
        </dd>
        <dt className="text-neutral-500">Size</dt>
        <dd>
          {formatBytes(entry.size)} · {formatCount(entry.params)} parameters · {formatCount(entry.keys)} keys
        </dd>
        <dt className="text-neutral-500">Stored as</dt>
        <dd>{Object.entries(entry.dtypes).map(([d, n]) => `${d} (${formatCount(n)})`).join(', ') || '—'}</dd>
        <dt className="text-neutral-500">Prediction</dt>
        <dd>
          {PREDICTION_LABELS[entry.predictionType] ?? entry.predictionType}
          {entry.predictionSource && <span className="text-neutral-500"> (from {entry.predictionSource})</span>}
        </dd>
        <dt className="text-neutral-500">Modified</dt>
        <dd>{formatDate(entry.mtimeMs)}</dd>
        {entry.llm && (
          <>
            <dt className="text-neutral-500">LLM</dt>
            <dd>
              {entry.llm.family}, {entry.llm.layers} layers{entry.llm.hiddenSize !== null && `, hidden ${entry.llm.hiddenSize}`}
              {entry.llm.vocabSize !== null && `, vocab ${entry.llm.vocabSize}`}
              {entry.llm.tiedEmbeddings && ', tied embeddings'}
            </dd>
          </>
        )}
      </dl>
      <section aria-label="Hashes">
        <h3 className="mb-0.5 font-semibold text-neutral-400">Hashes</h3>
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 font-mono text-[11px]">
          <dt className="text-neutral-500">AutoV2</dt>
          <dd>{entry.hashes.autov2 ?? 'not computed yet'}</dd>
          <dt className="text-neutral-500">AutoV3</dt>
          <dd>{entry.hashes.autov3 ?? 'not computed yet'}</dd>
          <dt className="text-neutral-500">SHA-256</dt>
          <dd className="break-all">{entry.hashes.sha256 ?? '—'}</dd>
          <dt className="text-neutral-500">AutoV1</dt>
          <dd>{entry.hashes.autov1 ?? '—'}</dd>
        </dl>
      </section>
      <section aria-label="Components">
        <h3 className="mb-0.5 font-semibold text-neutral-400">Components</h3>
        <table className="w-full">
          <thead className="text-left text-neutral-500">
            <tr>
              <th className="font-normal">component</th>
              <th className="text-right font-normal">keys</th>
              <th className="text-right font-normal">parameters</th>
            </tr>
          </thead>
          <tbody>
            {entry.components.map((c) => (
              <tr key={c.id}>
                <td>{c.id}</td>
                <td className="text-right tabular-nums">{formatCount(c.keys)}</td>
                <td className="text-right tabular-nums">{formatCount(c.params)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {entry.notes.length > 0 && (
        <ul className="list-disc pl-4 text-neutral-300">
          {entry.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {ancestry && (
        <section aria-label="Ancestry">
          <h3 className="mb-0.5 font-semibold text-neutral-400">Ancestry</h3>
          <ul role="tree" aria-label={`Ancestry of ${entry.name}`}>
            <AncestryItem node={ancestry} level={1} />
          </ul>
        </section>
      )}
      {embedded && (
        <section aria-label="Embedded recipe">
          <div className="mb-0.5 flex items-center gap-2">
            <h3 className="flex-1 font-semibold text-neutral-400">Embedded recipe</h3>
            {embedded.success && (
              <Button
                size="sm"
                onClick={() => {
                  load(embedded.data, `Loaded the recipe embedded in ${entry.name}.`)
                  onClose()
                }}
              >
                Load into builder
              </Button>
            )}
          </div>
          {!embedded.success && <InlineError error={`The embedded recipe is not one this version can load: ${embedded.error.issues[0]?.message ?? 'invalid'}`} />}
          <pre className="max-h-64 overflow-auto rounded border border-neutral-800 bg-neutral-950 p-2 text-[11px]">{JSON.stringify(entry.recipe, null, 2)}</pre>
        </section>
      )}
      {lineage && (
        <section aria-label="Lineage">
          <h3 className="mb-0.5 font-semibold text-neutral-400">Lineage</h3>
          <p className="mb-1 text-neutral-400">
            Merged {formatDate(lineage.finishedAt)} in {formatDuration(lineage.durationMs)} on {lineage.engine.backend} (Amalgam {lineage.engine.version}).
          </p>
          <BlockHeatmap stats={lineage.blockStats} architecture={lineage.inputs[0]?.architecture ?? entry.architecture} convention={lineage.recipe.blocks ?? null} />
        </section>
      )}
      {metadata.length > 0 && (
        <section aria-label="Metadata">
          <h3 className="mb-0.5 font-semibold text-neutral-400">Metadata</h3>
          <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
            {metadata.map(([key, value]) => (
              <div key={key} className="contents">
                <dt className="font-mono text-[11px] text-neutral-500">{key}</dt>
                <dd className="line-clamp-3 font-mono text-[11px] break-all" title={value}>
                  {value}
                </dd>
              </div>
            ))}
          </dl>
        </section>
      )}
    </div>
  )
}

function AncestryItem({ node, level }: { node: AncestryNode; level: number }) {
  return (
    <li role="treeitem" aria-level={level} aria-expanded={node.parents.length > 0 ? true : undefined} aria-selected={false} className="pl-3">
      <span className="text-neutral-200">{node.name}</span>
      {node.method && <code className="ml-1 text-neutral-500">({node.method})</code>}
      {node.sha256 && <code className="ml-1 text-[10px] text-neutral-600">{node.sha256.slice(0, 10)}</code>}
      {node.parents.length > 0 && (
        <ul role="group" className="border-l border-neutral-800">
          {node.parents.map((p, i) => (
            <AncestryItem key={`${p.name}-${i}`} node={p} level={level + 1} />
          ))}
        </ul>
      )}
    </li>
  )
}
