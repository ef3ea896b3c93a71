import { useEffect } from 'react'
import { useBuilderStore } from './builder-store'

/** Fields where Ctrl/Cmd+Z belongs to the text being typed, not to the recipe. */
function isTextEntry(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement) return true
  if (!(target instanceof HTMLInputElement)) return false
  return ['text', 'search', 'number', 'url', 'email', ''].includes(target.type)
}

/** Ctrl/Cmd+Z undoes the last recipe edit; Shift+Ctrl/Cmd+Z and Ctrl+Y redo it. */
export function useUndoKeys(): void {
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent): void {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || isTextEntry(event.target)) return
      const key = event.key.toLowerCase()
      const { undo, redo } = useBuilderStore.getState()
      if (key === 'z' && !event.shiftKey) undo()
      else if ((key === 'z' && event.shiftKey) || (key === 'y' && !event.metaKey)) redo()
      else return
      event.preventDefault()
    }
    window.addEventListener('keydown', onKeyDown)
    return () => window.removeEventListener('keydown', onKeyDown)
  }, [])
}
