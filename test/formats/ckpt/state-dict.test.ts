import { describe, expect, it } from 'vitest'
import { isAmalgamError } from '../../../src-main/engine/errors'
import { PyDict, PyGlobal, PyList, PyObject, PySet, PyTuple, TorchStorage, TorchTensor, type PyValue } from '../../../src-main/engine/formats/ckpt/pickle-values'
import { findStateDict } from '../../../src-main/engine/formats/ckpt/state-dict'
import { TORCH_DTYPES } from '../../../src-main/engine/formats/ckpt/torch-dtypes'

const F32 = TORCH_DTYPES.get('float32')!
const tensor = (): TorchTensor => new TorchTensor(new TorchStorage('0', F32, 4, 0), F32, 0, [4], [1])

function dict(entries: Record<string, PyValue>): PyDict {
  const d = new PyDict()
  for (const [k, v] of Object.entries(entries)) d.set(k, v)
  return d
}

function module(type: string, parts: { params?: Record<string, PyValue>; buffers?: Record<string, PyValue>; modules?: Record<string, PyValue>; transient?: string[] }): PyObject {
  const object = new PyObject(new PyGlobal('torch.nn.modules.linear', type, { kind: 'opaque' }), [])
  object.state = dict({
    training: true,
    _parameters: dict(parts.params ?? {}),
    _buffers: dict(parts.buffers ?? {}),
    _non_persistent_buffers_set: new PySet(parts.transient ?? []),
    _modules: dict(parts.modules ?? {}),
  })
  return object
}

const names = (root: PyValue): string[] => findStateDict('model.ckpt', root).tensors.map(([name]) => name)

function failure(root: PyValue): { code: string; message: string } {
  try {
    findStateDict('model.ckpt', root)
  } catch (err) {
    if (isAmalgamError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('found a state dict')
}

describe('findStateDict', () => {
  it('uses the first known entry that holds tensors', () => {
    const root = dict({ epoch: 3, model: dict({ b: tensor() }), state_dict: dict({}), params: dict({ a: tensor() }) })
    expect(names(root)).toEqual(['a'])
    expect(findStateDict('model.ckpt', root).notes).toEqual(["read the tensors under 'params'; ignored 1 tensors outside 'params' (model)"])
  })

  it('looks for a known entry inside the chosen one', () => {
    const root = dict({ model: dict({ state_dict: dict({ w: tensor() }), ema: dict({ w: tensor() }) }), epoch: 1 })
    const found = findStateDict('model.ckpt', root)
    expect(found.tensors.map(([name]) => name)).toEqual(['w'])
    expect(found.notes).toEqual(["read the tensors under 'model.state_dict'; ignored 1 tensors outside 'model.state_dict' (model.ema)"])
  })

  it('falls back to the top level, joining nested names with dots', () => {
    const shared = tensor()
    const root = dict({ unet: dict({ 'conv.weight': shared, blocks: new PyList([tensor(), tensor()]) }), tied: shared, step: 5 })
    const found = findStateDict('model.ckpt', root)
    expect(found.tensors.map(([name]) => name)).toEqual(['unet.conv.weight', 'unet.blocks.0', 'unet.blocks.1', 'tied'])
    expect(found.tensors[0]![1]).toBe(found.tensors[3]![1])
    expect(found.notes).toEqual(['ignored 1 non-tensor entries of the state dict: step'])
  })

  it('reads a pickled module like state_dict(): parameters, persistent buffers, submodules; unset ones skipped', () => {
    const linear = module('Linear', { params: { weight: tensor(), bias: null } })
    const norm = module('BatchNorm1d', { params: { weight: tensor() }, buffers: { running_mean: tensor(), scratch: tensor() }, transient: ['scratch'] })
    const root = module('Sequential', { params: {}, modules: { 0: linear, 1: norm, 2: null } })
    const found = findStateDict('model.ckpt', root)
    expect(found.tensors.map(([name]) => name)).toEqual(['0.weight', '1.weight', '1.running_mean'])
    expect(found.modules).toEqual(new Set([root, linear, norm]))
  })

  it('refuses names that collide once joined', () => {
    expect(failure(dict({ 'a.b': tensor(), a: dict({ b: tensor() }) }))).toEqual({ code: 'BAD_TENSOR', message: `model.ckpt: two tensors are named "a.b" once nested names are joined with '.'` })
  })

  it('says what the file holds when it holds no tensors', () => {
    expect(failure(dict({ epoch: 1, config: dict({}) }))).toEqual({ code: 'UNSUPPORTED_FORMAT', message: 'model.ckpt: holds no torch tensors (its pickle is a dict with entries epoch, config)' })
    expect(failure(tensor())).toEqual({ code: 'UNSUPPORTED_FORMAT', message: 'model.ckpt: holds a single tensor, not a dict of named tensors' })
  })

  it('survives cycles and nesting too deep for a state dict', () => {
    const cyclic = new PyList()
    cyclic.items.push(cyclic, tensor())
    expect(names(dict({ loop: cyclic }))).toEqual(['loop.1'])
    let deep: PyValue = tensor()
    for (let i = 0; i < 100_000; i++) deep = new PyTuple([deep])
    expect(failure(dict({ deep, other: 1 })).code).toBe('UNSUPPORTED_FORMAT')
  })

  it('bounds the work of containers shared exponentially often', () => {
    let node: PyValue = tensor()
    for (let i = 0; i < 60; i++) node = new PyList([node, node])
    expect(failure(dict({ bomb: node }))).toEqual({
      code: 'BAD_PICKLE',
      message: "model.ckpt: the pickle's containers refer to each other too often to walk (more than 1000000 visits)",
    })
  })
})
