import { useId, useState } from 'react'
import type { ArchitectureInfo } from '../../../../../src-main/common/ipc'
import type { NumberParamSpec } from '../../../../../src-main/common/method-info'
import type { NumberValue } from '../../../../../src-main/common/recipe'
import { call, type CallError } from '../../../app/call'
import { formatValue } from '../../../app/format'
import { Button } from '../../../ui/Button'
import { SelectField, TextField } from '../../../ui/Field'
import { InlineError } from '../../../ui/InlineError'
import { cx } from '../../../ui/cx'
import { usePresetsStore } from '../../presets/presets-store'
import { useArchitectureInfo, useBuilderArchitectureRequest } from '../architecture-store'
import { useBuilderStore } from '../builder-store'
import {
  asStructured,
  blocksToText,
  effectiveBlockValues,
  parseBlocksText,
  varyMode,
  withBlocks,
  withGradient,
  withKeyRules,
  withVaryMode,
  type VaryMode,
} from '../number-value'
import { BlockLayout, type Block } from './BlockLayout'
import { CurveView } from './CurveView'
import { GradientAnchors } from './GradientAnchors'
import { KeyRules } from './KeyRules'

export interface BlockEditorProps {
  label: string
  value: NumberValue | undefined
  onChange(value: NumberValue | undefined, coalesceKey?: string): void
  spec: NumberParamSpec
  /** what a block gets when nothing else sets it: the global value, else the method default */
  fallback: number
}

/** Per-block, gradient and per-key values of one parameter, on the architecture's block diagram. */
export function BlockEditor({ label, value, onChange, spec, fallback }: BlockEditorProps) {
  const { request, reason } = useBuilderArchitectureRequest()
  const arch = useArchitectureInfo(request)
  const limits = { ...(spec.min === undefined ? {} : { min: spec.min }), ...(spec.max === undefined ? {} : { max: spec.max }) }
  const rules = asStructured(value).keys ?? []
  return (
    <div className="flex flex-col gap-2 rounded border border-neutral-800 bg-neutral-950/50 p-2">
      {arch === null && <p className="text-xs text-neutral-500">{reason}</p>}
      {arch?.status === 'loading' && <p className="text-xs text-neutral-500">Loading the block layout…</p>}
      {arch?.status === 'error' && <InlineError error={arch.error} />}
      {arch?.status === 'ok' && <Blocks info={arch.info} label={label} value={value} onChange={onChange} spec={spec} fallback={fallback} limits={limits} />}
      <div>
        <h4 className="mb-1 text-[11px] font-semibold text-neutral-400 uppercase">Per-key rules</h4>
        <KeyRules label={label} rules={rules} limits={limits} onChange={(next, key) => onChange(withKeyRules(value, next), key && `${label}:${key}`)} />
      </div>
    </div>
  )
}

function Blocks({ info, label, value, onChange, spec, fallback, limits }: BlockEditorProps & { info: ArchitectureInfo; limits: { min?: number; max?: number } }) {
  const radioName = useId()
  const blocks = info.blocks
  const mode = varyMode(value)
  const values = effectiveBlockValues(value, blocks, fallback)
  const structured = asStructured(value)
  const unknownIds = Object.keys(structured.blocks ?? {}).filter((id) => !blocks.some((b) => b.id === id))

  const setBlock = (id: string, v: number, key: string): void => {
    const next = Object.fromEntries(blocks.map((b, i) => [b.id, b.id === id ? v : values[i]!]))
    onChange(withBlocks(value, { ...structured.blocks, ...next }), key)
  }
  const modes: { id: VaryMode; label: string }[] = [
    { id: 'off', label: 'One value' },
    { id: 'blocks', label: 'Per block' },
    { id: 'gradient', label: 'Gradient' },
  ]

  return (
    <>
      <div className="flex flex-wrap items-end gap-3">
        <fieldset className="flex items-center gap-2">
          <legend className="sr-only">How {label} varies over the model</legend>
          {modes.map((m) => (
            <label key={m.id} className="flex items-center gap-1 text-xs">
              <input type="radio" name={radioName} checked={mode === m.id} onChange={() => onChange(withVaryMode(value, m.id, blocks, fallback))} />
              {m.label}
            </label>
          ))}
        </fieldset>
        <ConventionSelect info={info} />
        <PresetSelect info={info} label={label} onApply={(preset) => onChange(withBlocks(value, preset))} />
      </div>
      <p className="text-[11px] text-neutral-500">
        {blocks.length} blocks of {info.architecture}, convention {info.convention.name} {info.convention.version}. Values are the share of the merge per block (moving a slider switches to per-block values).
      </p>
      {unknownIds.length > 0 && (
        <InlineError error={`${label}: values for blocks this convention does not have (${unknownIds.join(', ')}); they will not apply. Choose the convention they were made for, or reset the values.`} />
      )}
      <CurveView
        label={label}
        blocks={blocks}
        values={values}
        range={spec.ui}
        {...(mode === 'gradient' ? {} : { onChange: (id: string, v: number) => setBlock(id, v, `${label}:curve`) })}
      />
      {mode === 'gradient' && (
        <GradientAnchors label={label} anchors={structured.gradient ?? []} limits={limits} onChange={(anchors) => onChange(withGradient(value, anchors), `${label}:gradient`)} />
      )}
      <BlockLayout
        label={`${label} per block`}
        blocks={blocks}
        cell={(b: Block) => {
          const i = blocks.indexOf(b)
          const v = values[i] ?? fallback
          return (
            <div className="flex items-center gap-1">
              <span className="min-w-11 shrink-0 font-mono text-[11px] text-neutral-400">{b.id}</span>
              <input
                type="range"
                aria-label={`${label} ${b.id}`}
                className="min-w-0 flex-1"
                min={spec.ui.min}
                max={spec.ui.max}
                step={spec.ui.step}
                value={Math.min(spec.ui.max, Math.max(spec.ui.min, v))}
                onChange={(e) => setBlock(b.id, Number(e.target.value), `${label}:block:${b.id}`)}
              />
              <span title={formatValue(v)} className={cx('w-8 text-right text-[11px] tabular-nums', mode === 'blocks' ? 'text-neutral-200' : 'text-neutral-500')}>
                {v.toFixed(2)}
              </span>
            </div>
          )
        }}
      />
      <BlocksText key={blocksToText(values)} label={label} values={values} onValues={(next) => onChange(withBlocks(value, Object.fromEntries(blocks.map((b, i) => [b.id, next[i]!]))))} />
      <SaveBlockPreset info={info} values={Object.fromEntries(blocks.map((b, i) => [b.id, values[i]!]))} />
    </>
  )
}

/** The values as one line in block order, the way supermerger and Model Mixer write them: paste a preset here. */
function BlocksText({ label, values, onValues }: { label: string; values: readonly number[]; onValues(values: number[]): void }) {
  const [text, setText] = useState(blocksToText(values))
  const parsed = parseBlocksText(text, values.length)
  return (
    <TextField
      label={`${label} values in block order`}
      inputClassName="font-mono text-xs"
      spellCheck={false}
      value={text}
      error={'problem' in parsed ? parsed.problem : null}
      hint="Comma-separated, in the order above; press Enter to apply."
      onChange={setText}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && 'values' in parsed) onValues(parsed.values)
      }}
      onBlur={() => {
        if ('values' in parsed && blocksToText(parsed.values) !== blocksToText(values)) onValues(parsed.values)
      }}
    />
  )
}

function ConventionSelect({ info }: { info: ArchitectureInfo }) {
  const edit = useBuilderStore((s) => s.edit)
  if (info.conventions.length <= 1) return null
  return (
    <SelectField
      label="Block convention"
      value={`${info.convention.name}@${info.convention.version}`}
      options={info.conventions.map((c) => ({ value: `${c.name}@${c.version}`, label: `${c.name} ${c.version}${c.current ? ' (current)' : ''}` }))}
      onChange={(v) => {
        const [name = '', version = ''] = v.split('@')
        edit((d) => ({ ...d, blocks: { name, version } }))
      }}
    />
  )
}

/** Built-in presets labelled by where they come from, and the user's own block presets for this architecture. */
function PresetSelect({ info, label, onApply }: { info: ArchitectureInfo; label: string; onApply(values: Record<string, number>): void }) {
  const userPresets = usePresetsStore((s) => s.presets).flatMap((p) => (p.kind === 'blocks' && p.architecture === info.architecture && p.convention.name === info.convention.name ? [p] : []))
  const all = [
    ...info.presets.map((p) => ({ value: `builtin:${p.id}`, label: p.name, group: p.source, values: p.values })),
    ...userPresets.map((p) => ({ value: `user:${p.id}`, label: p.name, group: 'your presets', values: p.values })),
  ]
  if (all.length === 0) return null
  return (
    <SelectField
      label={`${label} block preset`}
      value=""
      options={[{ value: '', label: 'Apply a preset…' }, ...all]}
      onChange={(v) => {
        const chosen = all.find((p) => p.value === v)
        if (chosen) onApply(chosen.values)
      }}
    />
  )
}

function SaveBlockPreset({ info, values }: { info: ArchitectureInfo; values: Record<string, number> }) {
  const refresh = usePresetsStore((s) => s.refresh)
  const [name, setName] = useState('')
  const [error, setError] = useState<CallError | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  async function save(): Promise<void> {
    const result = await call('presets.save', { preset: { kind: 'blocks', name: name.trim(), architecture: info.architecture, convention: info.convention, values } })
    if (!result.ok) return setError(result.error)
    setError(null)
    setSaved(result.value.name)
    setName('')
    await refresh()
  }
  return (
    <form
      className="flex flex-wrap items-end gap-1.5"
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      <TextField label="New block preset name" value={name} onChange={setName} className="w-48" />
      <Button type="submit" disabled={name.trim() === ''}>
        Save block preset
      </Button>
      {saved && (
        <span role="status" className="text-xs text-emerald-300">
          Saved “{saved}”.
        </span>
      )}
      <InlineError error={error} className="w-full" />
    </form>
  )
}
