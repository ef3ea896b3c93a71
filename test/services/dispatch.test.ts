import { describe, expect, it } from 'vitest'
import { INVOKE_CHANNELS } from '../../src-main/common/ipc-channels'
import { AmalgamError } from '../../src-main/engine/errors'
import { createDispatcher, type Handlers } from '../../src-main/services/dispatch'

/** A handler map where every channel fails loudly unless a test overrides it. */
function handlers(overrides: Partial<Handlers>): Handlers {
  const all = Object.fromEntries(INVOKE_CHANNELS.map((c) => [c, () => Promise.reject(new Error(`${c} should not be called`))])) as unknown as Handlers
  return { ...all, ...overrides }
}

describe('dispatcher', () => {
  it('refuses an unknown channel', async () => {
    const dispatcher = createDispatcher(handlers({}), () => undefined)
    expect(await dispatcher.dispatch('library.format', {})).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'library.format: no such channel' } })
    expect(await dispatcher.dispatch('__proto__', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
  })

  it('refuses an invalid payload naming the channel and the field, without calling the handler', async () => {
    const dispatcher = createDispatcher(handlers({}), () => undefined)
    expect(await dispatcher.dispatch('library.addFolder', { path: 42 })).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: 'library.addFolder: path: Invalid input: expected string, received number' },
    })
    expect(await dispatcher.dispatch('library.addFolder', undefined)).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^library\.addFolder: .*expected object/) } })
  })

  it('hands the parsed request (defaults filled in) to the handler and wraps its value', async () => {
    let seen: unknown
    const dispatcher = createDispatcher(
      handlers({
        'merge.start': async (request) => {
          seen = request
          return { jobId: 'j1' }
        },
      }),
      () => undefined,
    )
    const recipe = { format: 'amalgam.recipe', version: 1, merge: { method: 'weighted_sum', inputs: [{ model: '/a' }, { model: '/b' }] }, output: { path: '/o' } }
    expect(await dispatcher.dispatch('merge.start', { recipe })).toEqual({ ok: true, value: { jobId: 'j1' } })
    expect(seen).toMatchObject({ recipe: { seed: 0, components: {}, merge: { params: {} }, output: { dtype: 'auto', embedRecipe: true } } })
  })

  it('keeps an AmalgamError code and message, and reports nothing', async () => {
    const problems: string[] = []
    const dispatcher = createDispatcher(
      handlers({
        'library.inspect': () => Promise.reject(new AmalgamError('BAD_HEADER', '/m/a.safetensors: header length 9e9 is larger than the file')),
      }),
      (m) => void problems.push(m),
    )
    expect(await dispatcher.dispatch('library.inspect', { path: '/m/a.safetensors' })).toEqual({
      ok: false,
      error: { code: 'BAD_HEADER', message: '/m/a.safetensors: header length 9e9 is larger than the file' },
    })
    expect(problems).toEqual([])
  })

  it('turns anything else into INTERNAL with the message, and reports it with the stack', async () => {
    const problems: string[] = []
    const dispatcher = createDispatcher(handlers({ 'settings.get': () => Promise.reject(new TypeError('x is undefined')) }), (m) => void problems.push(m))
    expect(await dispatcher.dispatch('settings.get', {})).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'settings.get: x is undefined' } })
    expect(problems).toEqual([expect.stringContaining('TypeError: x is undefined')])
  })
})
