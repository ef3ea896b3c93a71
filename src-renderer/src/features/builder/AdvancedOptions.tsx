import { useId } from 'react'
import { KeyPolicy, PredictionType } from '../../../../src-main/common/recipe'
import { SelectField, Switch } from '../../ui/Field'
import { cx } from '../../ui/cx'
import { useBuilderStore } from './builder-store'
import { roleName, type RecipeDraft } from './draft'
import { regexProblem } from './number-value'
import { VocabularyPolicyField } from './VocabularyPolicy'

const POLICY_LABELS: Readonly<Record<KeyPolicy, string>> = {
  error: 'stop with an error',
  skip: 'skip the key (copy it from a)',
  fallback: 'take it from the fallback input',
}

/** Key filters and policies, and the recipe's options: what most merges leave at their defaults. */
export function AdvancedOptions() {
  const keys = useBuilderStore((s) => s.draft.keys)
  const options = useBuilderStore((s) => s.draft.options)
  const inputCount = useBuilderStore((s) => s.draft.inputs.length)
  const edit = useBuilderStore((s) => s.edit)
  const setKeys = (patch: Partial<RecipeDraft['keys']>, key?: string): void => edit((d) => ({ ...d, keys: { ...d.keys, ...patch } }), key)
  const setOptions = (patch: Partial<RecipeDraft['options']>): void => edit((d) => ({ ...d, options: { ...d.options, ...patch } }))
  const policies = KeyPolicy.options.map((p) => ({ value: p, label: POLICY_LABELS[p] }))
  return (
    <div className="flex flex-col gap-2">
      <div className="grid grid-cols-3 gap-2">
        <SelectField label="A key some input lacks" value={keys.missing} options={policies} onChange={(v) => setKeys({ missing: KeyPolicy.parse(v) })} />
        <SelectField label="A key whose shapes differ" value={keys.shapeMismatch} options={policies} onChange={(v) => setKeys({ shapeMismatch: KeyPolicy.parse(v) })} />
        <SelectField
          label="Fallback input"
          value={String(keys.fallback)}
          options={Array.from({ length: inputCount }, (_, i) => ({ value: String(i), label: roleName(i) }))}
          onChange={(v) => setKeys({ fallback: Number(v) })}
        />
      </div>
      <div className="grid grid-cols-2 gap-2">
        <PatternList label="Only merge keys matching" patterns={keys.include} onChange={(include) => setKeys({ include }, 'include')} />
        <PatternList label="Never merge keys matching" patterns={keys.exclude} onChange={(exclude) => setKeys({ exclude }, 'exclude')} />
      </div>
      <SelectField
        label="Keys left out by these filters"
        value={keys.excluded}
        options={[
          { value: 'copy', label: 'copy them from a' },
          { value: 'drop', label: 'drop them from the output' },
        ]}
        onChange={(v) => setKeys({ excluded: v === 'drop' ? 'drop' : 'copy' })}
      />
      <Switch
        label="Allow different prediction types"
        description="Merging a v-prediction model with an eps one usually gives broken images; allow it only on purpose."
        checked={options.allowPredictionMismatch}
        onChange={(allowPredictionMismatch) => setOptions({ allowPredictionMismatch })}
      />
      <SelectField
        label="Prediction type written to the output"
        value={options.predictionType ?? ''}
        options={[{ value: '', label: 'as model a' }, ...PredictionType.options.map((p) => ({ value: p, label: p }))]}
        onChange={(v) => edit((d) => ({ ...d, options: { ...d.options, predictionType: v === '' ? undefined : PredictionType.parse(v) } }))}
      />
      <VocabularyPolicyField label="Language models whose vocabularies differ" />
      <Switch label="Use EMA weights" description="Swap the EMA weights into the UNet before merging, for inputs that carry them." checked={options.useEma} onChange={(useEma) => setOptions({ useEma })} />
      <Switch
        label="Reset CLIP position ids"
        description="Rewrites position_ids to 0..76 for inputs whose ids were damaged by earlier float merges."
        checked={options.resetPositionIds}
        onChange={(resetPositionIds) => setOptions({ resetPositionIds })}
      />
    </div>
  )
}

/** Regular expressions, one per line, each checked as it is typed. */
function PatternList({ label, patterns, onChange }: { label: string; patterns: readonly string[]; onChange(patterns: string[]): void }) {
  const id = useId()
  const problems = patterns.map((p, i) => [i, regexProblem(p)] as const).filter(([i, problem]) => problem !== null && patterns[i] !== '')
  return (
    <div className="flex flex-col gap-0.5">
      <label htmlFor={id} className="text-xs text-neutral-400">
        {label} (one regex per line)
      </label>
      <textarea
        id={id}
        rows={2}
        spellCheck={false}
        aria-invalid={problems.length > 0 ? true : undefined}
        aria-describedby={problems.length > 0 ? `${id}-problem` : undefined}
        className={cx('rounded border border-neutral-700 bg-neutral-950 px-1.5 py-1 font-mono text-xs', problems.length > 0 && 'border-red-600')}
        value={patterns.join('\n')}
        onChange={(e) => onChange(e.target.value === '' ? [] : e.target.value.split('\n'))}
      />
      {problems.length > 0 && (
        <span id={`${id}-problem`} className="text-[11px] text-red-300">
          {problems.map(([i, problem]) => `line ${i + 1}: ${problem}`).join('; ')}
        </span>
      )}
    </div>
  )
}
