import { describe, expect, it, vi } from 'vitest'
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../../src-main/common/ipc-channels'

type Listener = (event: unknown, payload: unknown) => void

const electron = vi.hoisted(() => {
  const listeners = new Map<string, Listener[]>()
  const exposed = new Map<string, unknown>()
  return {
    exposed,
    listeners,
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) },
    ipcRenderer: {
      invoke: (channel: string, request: unknown) => Promise.resolve({ ok: true, value: { channel, request } }),
      on: (channel: string, listener: Listener) => void listeners.set(channel, [...(listeners.get(channel) ?? []), listener]),
      removeListener: (channel: string, listener: Listener) => void listeners.set(channel, (listeners.get(channel) ?? []).filter((l) => l !== listener)),
    },
    webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
  }
})

vi.mock('electron', () => ({ contextBridge: electron.contextBridge, ipcRenderer: electron.ipcRenderer, webUtils: electron.webUtils }))

async function loadPreload(): Promise<Record<string, unknown>> {
  await import('../../src-preload/index')
  expect([...electron.exposed.keys()]).toEqual(['amalgam'])
  return electron.exposed.get('amalgam') as Record<string, unknown>
}

describe('preload', () => {
  it('exposes exactly one function per invoke channel, the event subscriptions and pathForFile, frozen', async () => {
    const api = await loadPreload()
    expect(Object.keys(api).sort()).toEqual([...INVOKE_CHANNELS, 'events', 'pathForFile'].sort())
    for (const channel of INVOKE_CHANNELS) expect(typeof api[channel], channel).toBe('function')
    const events = api.events as Record<string, unknown>
    expect(Object.keys(events).sort()).toEqual([...EVENT_CHANNELS].sort())
    expect(Object.isFrozen(api)).toBe(true)
    expect(Object.isFrozen(events)).toBe(true)
    // nothing that is, or leads to, ipcRenderer itself
    expect(Object.values(api)).not.toContain(electron.ipcRenderer)
    expect(Object.values(api).some((v) => typeof v === 'object' && v !== null && 'invoke' in v)).toBe(false)
  })

  it('each invoke function calls its own channel with the request', async () => {
    const api = await loadPreload()
    for (const channel of INVOKE_CHANNELS) {
      const call = api[channel] as (request: unknown) => Promise<unknown>
      expect(await call({ probe: channel })).toEqual({ ok: true, value: { channel, request: { probe: channel } } })
    }
  })

  it('subscriptions pass only the payload and return an unsubscribe', async () => {
    const api = await loadPreload()
    const events = api.events as Record<string, (listener: (payload: unknown) => void) => () => void>
    const got: unknown[] = []
    const stop = events['library.progress']!((payload) => void got.push(payload))
    for (const l of electron.listeners.get('library.progress') ?? []) l({ sender: 'IpcRendererEvent' }, { done: 1 })
    expect(got).toEqual([{ done: 1 }])
    stop()
    expect(electron.listeners.get('library.progress')).toEqual([])
  })

  it('pathForFile asks webUtils for a dropped file\'s path', async () => {
    const api = await loadPreload()
    expect((api.pathForFile as (file: { name: string }) => string)({ name: 'a.safetensors' })).toBe('/dropped/a.safetensors')
  })
})
