import { Button } from '../../../ui/Button'
import { TextField } from '../../../ui/Field'
import { NumberInput } from '../../../ui/NumberInput'
import { regexProblem } from '../number-value'

export interface KeyRule {
  pattern: string
  value: number
}

/** Per-key overrides: the first rule whose regular expression matches a key gives that key's value. */
export function KeyRules({ label, rules, onChange, limits }: { label: string; rules: readonly KeyRule[]; onChange(rules: KeyRule[], coalesceKey?: string): void; limits: { min?: number; max?: number } }) {
  const update = (i: number, patch: Partial<KeyRule>, coalesceKey?: string): void => onChange(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)), coalesceKey)
  const move = (i: number, delta: number): void => {
    const next = [...rules]
    const [rule] = next.splice(i, 1)
    if (rule) next.splice(i + delta, 0, rule)
    onChange(next)
  }
  return (
    <div className="flex flex-col gap-1">
      {rules.length > 0 && (
        <ol aria-label={`${label} key rules`} className="flex flex-col gap-1">
          {rules.map((rule, i) => (
            <li key={i} className="flex items-start gap-1.5">
              <span className="mt-1.5 w-4 text-right text-[11px] text-neutral-500">{i + 1}</span>
              <TextField
                label={`${label} rule ${i + 1} pattern`}
                hideLabel
                className="min-w-0 flex-1"
                placeholder="regular expression, e.g. \.attn\d?\."
                spellCheck={false}
                value={rule.pattern}
                error={regexProblem(rule.pattern)}
                onChange={(pattern) => update(i, { pattern }, `rule-pattern-${i}`)}
              />
              <NumberInput label={`${label} rule ${i + 1} value`} value={rule.value} step={0.05} {...limits} className="w-20" onChange={(value) => update(i, { value }, `rule-value-${i}`)} />
              <Button size="sm" variant="ghost" aria-label={`Move ${label} rule ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                ↑
              </Button>
              <Button size="sm" variant="ghost" aria-label={`Move ${label} rule ${i + 1} down`} disabled={i === rules.length - 1} onClick={() => move(i, 1)}>
                ↓
              </Button>
              <Button size="sm" variant="ghost" aria-label={`Remove ${label} rule ${i + 1}`} onClick={() => onChange(rules.filter((_, j) => j !== i))}>
                ×
              </Button>
            </li>
          ))}
        </ol>
      )}
      <div className="flex items-center gap-2">
        <Button size="sm" aria-label={`Add ${label} key rule`} onClick={() => onChange([...rules, { pattern: '', value: 0 }])}>
          + key rule
        </Button>
        <span className="text-[11px] text-neutral-500">Rules win over block values; the first match counts.</span>
      </div>
    </div>
  )
}
