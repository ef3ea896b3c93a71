import { create } from 'zustand'

interface AnnouncerState {
  message: string
  announce(message: string): void
}

/** One polite live region for the whole app: milestones (scan finished, merge done) are read out once. */
export const useAnnouncer = create<AnnouncerState>()((set) => ({
  message: '',
  announce: (message) => set({ message }),
}))

export function announce(message: string): void {
  useAnnouncer.getState().announce(message)
}

export function Announcer() {
  const message = useAnnouncer((s) => s.message)
  return (
    <div role="status" aria-live="polite" className="sr-only">
      {message}
    </div>
  )
}
