import { Badge } from '../../ui/Badge'
import { InlineError } from '../../ui/InlineError'
import { useStatusStore } from './status-store'

/** Which compute backend runs merges and, when the GPU is not used, why. */
export function StatusBar() {
  const status = useStatusStore((s) => s.status)
  const error = useStatusStore((s) => s.error)
  if (error) return <InlineError error={error} className="max-w-md" />
  if (!status) return <span className="text-xs text-neutral-500">Connecting…</span>
  const { backend } = status
  return (
    <div className="flex min-w-0 items-center gap-2 text-xs text-neutral-400" aria-label="Compute status" role="group">
      <span>
        Compute: <strong className="font-medium text-neutral-200">{backend.name}</strong>
      </span>
      <span className="min-w-0 truncate" title={`matrix products: ${backend.matMul}`}>
        matrix products: <span className="text-neutral-300">{backend.matMul}</span>
      </span>
      {backend.gpuUnavailableReason === null ? (
        <Badge tone="good">GPU in use</Badge>
      ) : (
        <span className="min-w-0 truncate" title={backend.gpuUnavailableReason}>
          <Badge tone="warn">GPU not used</Badge> <span className="text-neutral-500">{backend.gpuUnavailableReason}</span>
        </span>
      )}
      <span className="text-neutral-600">·</span>
      <span>{status.mode === 'electron' ? 'desktop' : 'browser'} · v{status.version}</span>
    </div>
  )
}
