import type { PlanFinding, PlanSummary } from '../../../../src-main/common/plan-summary'
import { formatBytes, formatCount, formatDuration } from '../../app/format'
import { Badge, type Tone } from '../../ui/Badge'
import { InlineError } from '../../ui/InlineError'
import { architectureLabel } from '../library/library-query'
import { useCurrentRecipe, usePreflightStore } from './preflight-store'

const SEVERITY: Readonly<Record<PlanFinding['severity'], { tone: Tone; label: string }>> = {
  blocking: { tone: 'bad', label: 'blocking' },
  warning: { tone: 'warn', label: 'warning' },
  info: { tone: 'info', label: 'info' },
}

/** The planner's findings before any byte is written, in plain words. */
export function PreflightPanel() {
  const current = useCurrentRecipe()
  const { key, plan, error, checking } = usePreflightStore()
  if (!current.ok) {
    return (
      <div className="text-xs text-neutral-400">
        <p>The check runs once the recipe is complete. Still to do:</p>
        <ul className="mt-1 list-disc pl-5">
          {current.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      </div>
    )
  }
  if (key !== current.key || checking) return <p className="text-xs text-neutral-400" role="status">Checking the recipe…</p>
  if (error) return <InlineError error={`The pre-flight check failed: ${error.message}`} />
  if (!plan) return null
  return <PlanView plan={plan} />
}

function PlanView({ plan }: { plan: PlanSummary }) {
  const findings = [...plan.findings].sort((a, b) => order(a) - order(b))
  const archs = new Set(plan.inputs.map((i) => i.architecture))
  const preds = new Set(plan.inputs.map((i) => i.predictionType))
  const diskShort = plan.freeDiskBytes !== null && plan.freeDiskBytes < plan.outputBytes
  return (
    <div className="flex flex-col gap-2" aria-label="Pre-flight summary" role="region">
      <p className="text-[13px]">
        {plan.ok ? <Badge tone="good">ready to merge</Badge> : <Badge tone="bad">blocked</Badge>}{' '}
        <span className="text-neutral-300">
          {architectureLabel(plan.architecture)}, blocks by {plan.blockConvention.name} {plan.blockConvention.version}, on {plan.backend}
        </span>
      </p>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs">
        <dt className="text-neutral-500">Architecture</dt>
        <dd>{archs.size <= 1 ? `all inputs are ${architectureLabel(plan.architecture)}` : `inputs differ: ${plan.inputs.map((i) => `${i.role} ${architectureLabel(i.architecture)}`).join(', ')}`}</dd>
        <dt className="text-neutral-500">Prediction type</dt>
        <dd>{preds.size <= 1 ? `all ${[...preds][0] ?? 'unknown'}` : `inputs differ: ${plan.inputs.map((i) => `${i.role} ${i.predictionType}`).join(', ')}`}</dd>
        <dt className="text-neutral-500">Keys</dt>
        <dd>
          {formatCount(plan.counts.keys)} in total: {formatCount(plan.counts.merged)} merged, {formatCount(plan.counts.copied)} copied, {formatCount(plan.counts.dropped)} dropped
        </dd>
        <dt className="text-neutral-500">Missing keys</dt>
        <dd>{plan.counts.missing === 0 ? 'none' : `${formatCount(plan.counts.missing)} keys some input lacks (handled by the missing-key policy)`}</dd>
        <dt className="text-neutral-500">Shape mismatches</dt>
        <dd>{plan.counts.shapeMismatches === 0 ? 'none' : `${formatCount(plan.counts.shapeMismatches)} keys`}</dd>
        <dt className="text-neutral-500">Peak memory</dt>
        <dd>about {formatBytes(plan.estimatedPeakBytes)}</dd>
        <dt className="text-neutral-500">Time</dt>
        <dd>about {formatDuration(plan.estimatedSeconds * 1000)}</dd>
        <dt className="text-neutral-500">Output</dt>
        <dd className="break-all">
          {formatBytes(plan.outputBytes)} as {plan.outputDType} → {plan.outputPath}
        </dd>
        <dt className="text-neutral-500">Free disk</dt>
        <dd className={diskShort ? 'text-red-300' : undefined}>{plan.freeDiskBytes === null ? 'unknown' : `${formatBytes(plan.freeDiskBytes)}${diskShort ? ' — not enough for the output' : ''}`}</dd>
      </dl>
      {findings.length > 0 ? (
        <ul aria-label="Findings" className="flex flex-col gap-1">
          {findings.map((f, i) => (
            <li key={`${f.code}-${i}`} className="flex items-start gap-2 text-xs">
              <Badge tone={SEVERITY[f.severity].tone}>{SEVERITY[f.severity].label}</Badge>
              <span className="min-w-0 flex-1">
                {f.message}
                {f.keys && f.keys.length > 0 && <span className="block font-mono text-[11px] break-all text-neutral-500">e.g. {f.keys.join(', ')}</span>}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-xs text-neutral-500">No findings.</p>
      )}
    </div>
  )
}

function order(f: PlanFinding): number {
  return f.severity === 'blocking' ? 0 : f.severity === 'warning' ? 1 : 2
}
