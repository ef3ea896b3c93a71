import { useState } from 'react'
import type { EnumParamSpec, NumberParamSpec } from '../../../../src-main/common/method-info'
import type { NumberValue, ParamValue } from '../../../../src-main/common/recipe'
import { Button } from '../../ui/Button'
import { SelectField, Switch } from '../../ui/Field'
import { NumberSlider } from '../../ui/NumberInput'
import { BlockEditor } from './blocks/BlockEditor'
import { useBuilderStore } from './builder-store'
import { roleName } from './draft'
import { setParam } from './draft-edits'
import { useResolvedMethod } from './methods-store'
import { globalValue, varyMode, withGlobal } from './number-value'

/** One control per parameter of the method, generated from its MethodInfo; nothing here knows a method by name. */
export function ParamControls() {
  const method = useBuilderStore((s) => s.draft.method)
  const params = useBuilderStore((s) => s.draft.params)
  const inputCount = useBuilderStore((s) => s.draft.inputs.length)
  const resolved = useResolvedMethod(method)
  const edit = useBuilderStore((s) => s.edit)
  if (!resolved) return <p className="text-xs text-neutral-500">Choose a method to see its parameters.</p>
  const specs = Object.entries(resolved.info.params)
  const fixed = resolved.alias?.params ?? {}
  const set = (id: string, value: ParamValue | undefined, coalesceKey?: string): void => edit((d) => setParam(d, id, value), coalesceKey)

  return (
    <div className="flex flex-col gap-3">
      {specs.length === 0 && <p className="text-xs text-neutral-500">This method has no parameters.</p>}
      {specs.map(([id, spec]) => {
        if (id in fixed) {
          return (
            <p key={id} className="text-xs text-neutral-400">
              {spec.label}: <strong className="text-neutral-200">{String(fixed[id])}</strong> (fixed by the alias {resolved.alias?.name})
            </p>
          )
        }
        const value = params[id]
        if (spec.type === 'boolean') {
          return <Switch key={id} label={spec.label} description={spec.description} checked={typeof value === 'boolean' ? value : spec.default} onChange={(v) => set(id, v)} />
        }
        if (spec.type === 'enum') return <EnumControl key={id} spec={spec} value={typeof value === 'string' ? value : spec.default} onChange={(v) => set(id, v)} />
        if (spec.perModel) {
          const list = Array.isArray(value) ? value : undefined
          return (
            <fieldset key={id} className="flex flex-col gap-1.5">
              <legend className="text-[13px] text-neutral-200">{spec.label}</legend>
              <p className="text-[11px] text-neutral-500">{spec.description} One value per model.</p>
              {Array.from({ length: inputCount }, (_, i) => (
                <NumberParamControl
                  key={i}
                  label={`${spec.label} (${roleName(i)})`}
                  spec={spec}
                  value={list?.[i]}
                  onChange={(v, key) => {
                    const next: NumberValue[] = Array.from({ length: inputCount }, (_, j) => (j === i ? v : list?.[j]) ?? spec.default ?? 0)
                    set(id, v === undefined && list === undefined ? undefined : next, key && `${id}:${key}`)
                  }}
                />
              ))}
            </fieldset>
          )
        }
        return (
          <div key={id} className="flex flex-col gap-0.5">
            <NumberParamControl
              label={spec.label}
              spec={spec}
              value={value === undefined || typeof value === 'number' || (typeof value === 'object' && !Array.isArray(value)) ? value : undefined}
              onChange={(v, key) => set(id, v, key && `${id}:${key}`)}
            />
            <p className="text-[11px] text-neutral-500">{spec.description}</p>
          </div>
        )
      })}
    </div>
  )
}

function EnumControl({ spec, value, onChange }: { spec: EnumParamSpec; value: string; onChange(value: string): void }) {
  const chosen = spec.options.find((o) => o.value === value)
  return (
    <SelectField
      label={spec.label}
      value={value}
      options={spec.options.map((o) => ({ value: o.value, label: o.label }))}
      onChange={onChange}
      hint={chosen ? `${chosen.description}` : spec.description}
    />
  )
}

/** A number parameter: the global value, and for per-block parameters the block editor behind a toggle. */
function NumberParamControl({ label, spec, value, onChange }: { label: string; spec: NumberParamSpec; value: NumberValue | undefined; onChange(value: NumberValue | undefined, coalesceKey?: string): void }) {
  const mode = varyMode(value)
  const [open, setOpen] = useState(mode !== 'off')
  const global = globalValue(value)
  const hasRules = typeof value === 'object' && (value.keys?.length ?? 0) > 0
  const limits = { ...(spec.min === undefined ? {} : { min: spec.min }), ...(spec.max === undefined ? {} : { max: spec.max }), integer: spec.type === 'integer' }
  return (
    <div className="flex flex-col gap-1">
      <div className="flex items-center gap-2">
        <span className="w-36 shrink-0 truncate text-[13px] text-neutral-200" title={label}>
          {label}
          {spec.default === null && global === undefined && <span className="ml-1 text-[11px] text-amber-300">required</span>}
        </span>
        <NumberSlider
          label={label}
          className="min-w-0 flex-1"
          value={global ?? spec.default}
          range={spec.ui}
          {...limits}
          onChange={(v) => onChange(withGlobal(value, v), 'value')}
        />
        {value !== undefined && (
          <Button size="sm" variant="ghost" aria-label={`Reset ${label} to default`} title={`Back to the method default${spec.default === null ? '' : ` (${spec.default})`}`} onClick={() => onChange(undefined)}>
            Reset
          </Button>
        )}
        {spec.perBlock && (
          <Button size="sm" aria-expanded={open} aria-label={`${label} per block`} onClick={() => setOpen(!open)}>
            {mode === 'blocks' ? 'Per block ●' : mode === 'gradient' ? 'Gradient ●' : hasRules ? 'Rules ●' : 'Per block…'}
          </Button>
        )}
      </div>
      {spec.perBlock && open && <BlockEditor label={label} value={value} spec={spec} fallback={global ?? spec.default ?? 0} onChange={onChange} />}
    </div>
  )
}
