import { useId } from 'react'
import { Button } from '../../ui/Button'
import { useMergeReadiness } from '../preflight/preflight-store'
import { RunPanel } from './RunPanel'
import { useCurrentJob, useRunStore } from './run-store'

/** Merge, disabled with the reason until the pre-flight says ok; then the run's progress and result. */
export function MergeBar() {
  const readiness = useMergeReadiness()
  const job = useCurrentJob()
  const start = useRunStore((s) => s.start)
  const reasonId = useId()
  const running = job !== null && job.terminal === null
  const reason = running ? 'A merge is running: wait for it, or cancel it.' : readiness.ready ? 'The pre-flight check passed.' : readiness.reason
  return (
    <div className="flex max-h-[48vh] shrink-0 flex-col gap-2 overflow-auto border-t border-neutral-800 bg-neutral-900 px-3 py-2">
      <div className="flex items-center gap-3">
        <Button
          variant="primary"
          className="h-8 px-5 text-sm"
          disabled={!readiness.ready || running}
          aria-describedby={reasonId}
          onClick={() => {
            if (readiness.ready) void start(readiness.recipe)
          }}
        >
          Merge
        </Button>
        <p id={reasonId} className={readiness.ready && !running ? 'text-xs text-emerald-300' : 'text-xs text-neutral-400'}>
          {reason}
        </p>
      </div>
      <RunPanel />
    </div>
  )
}
