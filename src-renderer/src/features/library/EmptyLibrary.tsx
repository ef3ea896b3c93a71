import { call } from '../../app/call'
import { useAction } from '../../app/use-action'
import { Button } from '../../ui/Button'
import { InlineError } from '../../ui/InlineError'
import { useLibraryStore } from './library-store'

/** First run: nothing to merge yet. Offer small generated checkpoints so a merge can be tried at once. */
export function EmptyLibrary({ hasFolders }: { hasFolders: boolean }) {
  const setSnapshot = useLibraryStore((s) => s.setSnapshot)
  const create = useAction(() => call('library.createDemo', {}))
  return (
    <div className="m-3 flex flex-col gap-2 rounded border border-sky-900 bg-sky-950/30 p-4" role="region" aria-label="Get started">
      <h3 className="text-sm font-semibold text-neutral-100">{hasFolders ? 'No models found in your library folders' : 'Your library is empty'}</h3>
      <p className="text-xs text-neutral-300">
        Add the folder where you keep your checkpoints (.safetensors, .ckpt) with “Add folder…” above. Or try Amalgam right away on a few small
        demo checkpoints (tiny SD-style models, a few megabytes, made on this machine): merge them, look at the pre-flight check, the progress and
        the per-block heatmap, then delete them when you are done.
      </p>
      <div>
        <Button
          variant="primary"
          disabled={create.pending}
          onClick={async () => {
            const snapshot = await create.run()
            if (snapshot) setSnapshot(snapshot)
          }}
        >
          {create.pending ? 'Creating demo checkpoints…' : 'Create demo checkpoints'}
        </Button>
      </div>
      <InlineError error={create.error} />
    </div>
  )
}
