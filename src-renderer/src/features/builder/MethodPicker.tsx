import { useState } from 'react'
import { Badge } from '../../ui/Badge'
import { Button } from '../../ui/Button'
import { Dialog } from '../../ui/Dialog'
import { inputClass } from '../../ui/Field'
import { InlineError } from '../../ui/InlineError'
import { cx } from '../../ui/cx'
import { useBuilderStore } from './builder-store'
import { setMethod } from './draft-edits'
import { costWords, inputsSummary, methodChoices, searchMethods } from './method-search'
import { useMethodsStore, useResolvedMethod } from './methods-store'

/** The chosen method in one line, and a searchable list of every method to change it. */
export function MethodPicker() {
  const methodName = useBuilderStore((s) => s.draft.method)
  const resolved = useResolvedMethod(methodName)
  const error = useMethodsStore((s) => s.error)
  const [open, setOpen] = useState(false)
  return (
    <div className="flex flex-col gap-1">
      <div className="flex items-start gap-2">
        <div className="min-w-0 flex-1">
          <div className="flex flex-wrap items-baseline gap-x-2">
            <span className="text-sm font-medium text-neutral-100">{resolved?.info.label ?? methodName}</span>
            <code className="text-xs text-neutral-500">{methodName}</code>
            {resolved?.alias && <span className="text-xs text-neutral-500">alias of {resolved.info.id}</span>}
          </div>
          {resolved && (
            <p className="text-xs text-neutral-400">
              {inputsSummary(resolved.info)} · {costWords(resolved.info.cost)}
              {resolved.info.randomness === 'seeded' ? ' · random (seeded)' : ''}
            </p>
          )}
        </div>
        <Button onClick={() => setOpen(true)}>Change method…</Button>
      </div>
      {resolved && <p className="text-xs leading-snug text-neutral-400">{resolved.info.description}</p>}
      <InlineError error={error} />
      {open && <MethodDialog current={methodName} onClose={() => setOpen(false)} />}
    </div>
  )
}

function MethodDialog({ current, onClose }: { current: string; onClose(): void }) {
  const methods = useMethodsStore((s) => s.methods)
  const edit = useBuilderStore((s) => s.edit)
  const [query, setQuery] = useState('')
  const choices = searchMethods(methodChoices(methods), query)
  function choose(name: string): void {
    edit((draft) => setMethod(draft, name, methods))
    onClose()
  }
  return (
    <Dialog title="Choose a merge method" onClose={onClose} className="w-[680px]">
      <input
        type="search"
        aria-label="Search methods"
        placeholder="Search by name, alias, description or cost (e.g. ties, sorting, fast)"
        className={cx(inputClass, 'mb-2 w-full')}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        data-autofocus
      />
      <p className="mb-1 text-xs text-neutral-500" role="status">
        {choices.length} of {methodChoices(methods).length} methods
      </p>
      <ul className="flex flex-col gap-1" aria-label="Methods">
        {choices.map((c) => (
          <li key={c.name}>
            <button
              type="button"
              aria-label={`Use method ${c.info.label} (${c.name})`}
              aria-current={c.name === current ? 'true' : undefined}
              onClick={() => choose(c.name)}
              className={cx(
                'w-full rounded border px-2 py-1.5 text-left hover:border-sky-700 hover:bg-neutral-800',
                c.name === current ? 'border-sky-600 bg-sky-950/40' : 'border-neutral-800 bg-neutral-900',
              )}
            >
              <span className="flex flex-wrap items-baseline gap-x-2">
                <span className="font-medium text-neutral-100">{c.info.label}</span>
                <code className="text-xs text-neutral-400">{c.name}</code>
                {c.aliasOf && (
                  <span className="text-xs text-neutral-500">
                    = {c.aliasOf} with {Object.entries(c.fixed).map(([k, v]) => `${k} ${String(v)}`).join(', ')}
                  </span>
                )}
                <span className="ml-auto flex gap-1">
                  {c.info.cost.map((cost) => (
                    <Badge key={cost} tone={cost === 'E' ? 'good' : cost === 'L' || cost === 'I' ? 'warn' : 'neutral'} title={costWords([cost])}>
                      {costWords([cost]).split(/[,:]/)[0]}
                    </Badge>
                  ))}
                  {c.info.randomness === 'seeded' && <Badge tone="accent">seeded</Badge>}
                </span>
              </span>
              <span className="mt-0.5 block text-xs text-neutral-400">{inputsSummary(c.info)}</span>
              <span className="mt-0.5 line-clamp-2 block text-xs text-neutral-500">{c.info.description}</span>
              {c.info.aliases.length > 0 && !c.aliasOf && <span className="mt-0.5 block text-[11px] text-neutral-600">also: {c.info.aliases.map((a) => a.name).join(', ')}</span>}
            </button>
          </li>
        ))}
      </ul>
      {choices.length === 0 && <p className="text-xs text-neutral-400">No method matches “{query}”.</p>}
    </Dialog>
  )
}
