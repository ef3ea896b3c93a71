import { useEffect } from 'react'
import { isTerminalEvent } from '../../../src-main/common/events'
import { getBridge } from '../bridge/bridge'
import { useBuilderStore } from '../features/builder/builder-store'
import { useHistoryStore } from '../features/history/history-store'
import { useLibraryStore } from '../features/library/library-store'
import { useRunStore } from '../features/run/run-store'
import { announce } from './announcer'

/** Routes main's events to the stores, for the whole life of the page. */
export function useBridgeEvents(): void {
  useEffect(() => {
    const { events } = getBridge()
    const stops = [
      events['library.changed'](() => void useLibraryStore.getState().refresh()),
      events['library.progress']((progress) => {
        useLibraryStore.getState().setProgress(progress)
        if (progress.done >= progress.total) announce(progress.phase === 'scanning' ? 'Library scan finished.' : 'Hashing finished.')
      }),
      events['merge.event']((payload) => {
        useRunStore.getState().receive(payload)
        if (isTerminalEvent(payload.event)) void useHistoryStore.getState().refresh()
      }),
      events['recipe.opened'](({ path, recipe }) => useBuilderStore.getState().load(recipe, `Opened the recipe ${path}.`)),
    ]
    return () => stops.forEach((stop) => stop())
  }, [])
}
