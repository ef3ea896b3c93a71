import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AmalgamError, isAmalgamError } from '../../../src-main/engine/errors'
import { PyComplex, PyDict, PyList, PySet, PyTuple, type PyObject, type PyValue } from '../../../src-main/engine/formats/ckpt/pickle-values'
import { torchHooks } from '../../../src-main/engine/formats/ckpt/torch-builders'
import { NeedMoreBytes, PickleProblem, unpickle } from '../../../src-main/engine/formats/ckpt/unpickler'

/*
 * pickles.json holds pickles written by CPython at every protocol (plus hand-written opcodes it
 * no longer emits), each with the value CPython's pickle.loads gave for it, in a JSON form that
 * keeps ints, floats, tuples, bytes and sets apart.
 */

const FIXTURES = join(import.meta.dirname, '../../fixtures/torch')
const cases = JSON.parse(readFileSync(join(FIXTURES, 'pickles.json'), 'utf8')) as { name: string; hex: string; expected: unknown }[]

function load(bytes: Uint8Array, complete = true): { value: PyValue; placeholders: PyObject[] } {
  const placeholders: PyObject[] = []
  const persistentLoad = (): PyValue => {
    throw new PickleProblem('no persistent ids in these tests')
  }
  const { value } = unpickle(bytes, 0, { file: 'test.pkl', label: 'the pickle', hooks: torchHooks(persistentLoad, placeholders), complete })
  return { value, placeholders }
}

const bytesOf = (text: string): Uint8Array => Buffer.from(text, 'latin1')

function pyFloat(repr: string): number {
  if (repr === 'inf') return Infinity
  if (repr === '-inf') return -Infinity
  if (repr === 'nan') return NaN
  return Number(repr)
}

/**
 * `actual` rewritten into the JSON form of `expected` wherever the two agree, so that toEqual
 * shows exactly where they differ.
 */
function asExpected(actual: PyValue, expected: unknown): unknown {
  if (expected === null || typeof expected === 'string' || typeof expected === 'boolean') return actual
  if (typeof expected === 'number') return typeof actual === 'number' && Number.isInteger(actual) ? actual : describeActual(actual)
  if (Array.isArray(expected)) return describeActual(actual)
  const [tag, body] = Object.entries(expected as Record<string, unknown>)[0]!
  switch (tag) {
    case 'int':
      return (typeof actual === 'bigint' || typeof actual === 'number') && BigInt(actual) === BigInt(body as string) ? expected : describeActual(actual)
    case 'float':
      return typeof actual === 'number' && Object.is(actual, pyFloat(body as string)) ? expected : describeActual(actual)
    case 'bytes':
      return actual instanceof Uint8Array && Buffer.from(actual).toString('hex') === body ? expected : describeActual(actual)
    case 'complex': {
      const [re, im] = body as [string, string]
      return actual instanceof PyComplex && actual.real === pyFloat(re) && actual.imag === pyFloat(im) ? expected : describeActual(actual)
    }
    case 'tuple':
    case 'list': {
      const items = tag === 'tuple' ? (actual instanceof PyTuple ? actual.items : null) : actual instanceof PyList ? actual.items : null
      const want = body as unknown[]
      return items === null ? describeActual(actual) : { [tag]: items.map((item, i) => asExpected(item, want[i])) }
    }
    case 'dict': {
      if (!(actual instanceof PyDict)) return describeActual(actual)
      const want = body as [unknown, unknown][]
      return { dict: [...actual.entries()].map(([k, v], i) => [asExpected(k, want[i]?.[0]), asExpected(v, want[i]?.[1])]) }
    }
    case 'set': {
      if (!(actual instanceof PySet)) return describeActual(actual)
      const want = body as unknown[]
      const unmatched = [...actual.items]
      const matched = want.map((w) => {
        const at = unmatched.findIndex((item) => JSON.stringify(asExpected(item, w)) === JSON.stringify(w))
        return at === -1 ? 'missing' : asExpected(unmatched.splice(at, 1)[0]!, w)
      })
      return { set: [...matched, ...unmatched.map(describeActual)] }
    }
    default:
      throw new Error(`unknown tag ${tag}`)
  }
}

function describeActual(actual: PyValue): string {
  return `<${typeof actual === 'object' && actual !== null ? actual.constructor.name : typeof actual}: ${String(actual)}>`
}

function hostileName(bytes: Uint8Array): string | null {
  try {
    load(bytes)
    return null
  } catch (err) {
    if (isAmalgamError(err, 'HOSTILE_PICKLE')) return /calls (.*) \(a hostile/.exec(err.message)![1]!
    throw err
  }
}

function problem(bytes: Uint8Array): string {
  try {
    load(bytes)
  } catch (err) {
    if (isAmalgamError(err, 'BAD_PICKLE')) return err.message
    throw err
  }
  throw new Error('the pickle loaded')
}

describe('unpickle agrees with CPython', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { value } = load(Buffer.from(c.hex, 'hex'))
    expect(asExpected(value, c.expected)).toEqual(c.expected)
  })

  it('keeps shared references shared (the memo) and survives a list that contains itself', () => {
    // [x, x] where x = [] ; then l = []; l.append(l) (protocol 2, as CPython writes them)
    const { value } = load(bytesOf('\x80\x02]q\x00(]q\x01h\x01e.'))
    const items = (value as PyList).items
    expect(items[0]).toBe(items[1])
    const { value: cyclic } = load(bytesOf('\x80\x02]q\x00h\x00a.'))
    expect((cyclic as PyList).items[0]).toBe(cyclic)
  })

  it('makes inert placeholders for unknown classes and records what was done to them', () => {
    // ModelCheckpoint via NEWOBJ, then BUILD with its __dict__; a dict subclass filled by SETITEMS
    const pickle = bytesOf(
      '\x80\x02(cpytorch_lightning.callbacks.model_checkpoint\nModelCheckpoint\n)\x81}X\x07\x00\x00\x00monitorNsb' +
        'cpytorch_lightning.utilities.parsing\nAttributeDict\n)\x81X\x02\x00\x00\x00lrG?\x1a6\xe2\xeb\x1cC-st.',
    )
    const { value, placeholders } = load(pickle)
    const [checkpoint, hparams] = (value as PyTuple).items as [PyObject, PyObject]
    expect(placeholders).toEqual([checkpoint, hparams])
    expect(checkpoint.type.qualifiedName).toBe('pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint')
    expect((checkpoint.state as PyDict).get('monitor')).toBe(null)
    expect(hparams.dictItems.get('lr')).toBe(1e-4)
  })
})

describe('hostile pickles are refused where the global is named, before anything is called', () => {
  it.each([
    ['cos\nsystem\n(S\'echo pwned\'\ntR.', 'os.system'],
    ['cposix\nsystem\n.', 'posix.system'],
    ['cnt\nsystem\n.', 'nt.system'],
    ['c__builtin__\ngetattr\n.', 'builtins.getattr'],
    ['cbuiltins\nexec\n.', 'builtins.exec'],
    ['cbuiltins\n__import__\n.', 'builtins.__import__'],
    ['cbuiltins\nprint\n.', 'builtins.print'],
    ['ccommands\ngetoutput\n.', 'subprocess.getoutput'],
    ['(ios\nsystem\nS\'x\'\n.', 'os.system'],
    ['\x80\x04\x8c\x05torch\x94\x8c\x17serialization.os.system\x94\x93.', 'torch.serialization.os.system'],
    ['\x80\x04\x8c\x05torch\x94\x8c\x18nn.functional.torch.load\x94\x93.', 'torch.nn.functional.torch.load'],
    ['\x80\x04\x8c\x08__main__\x94\x8c\x14__builtins__.compile\x94\x93.', '__main__.__builtins__.compile'],
    ['cnumpy\n__builtins__\n.', 'numpy.__builtins__'],
    ['ctorch\nload\n.', 'torch.load'],
    ['ctorch.hub\nload\n.', 'torch.hub.load'],
    ['ctorch._utils\n_import_dotted_name\n.', 'torch._utils._import_dotted_name'],
    ['cnumpy\nload\n.', 'numpy.load'],
    ['cnumpy.testing._private.utils\nrunstring\n.', 'numpy.testing._private.utils.runstring'],
    ['coperator\nattrgetter\n.', 'operator.attrgetter'],
    ['ctypes\nFunctionType\n.', 'types.FunctionType'],
    ['cimportlib\nimport_module\n.', 'importlib.import_module'],
    ['crunpy\nrun_path\n.', 'runpy.run_path'],
    ['cpickle\nloads\n.', 'pickle.loads'],
    ['cmarshal\nloads\n.', 'marshal.loads'],
    ['cctypes\nCDLL\n.', 'ctypes.CDLL'],
    ['cshutil\nrmtree\n.', 'shutil.rmtree'],
    ['csocket\nsocket\n.', 'socket.socket'],
    ['cwebbrowser\nopen\n.', 'webbrowser.open'],
    ['cpathlib\nPosixPath\n.', 'pathlib.PosixPath'],
    ['cio\nopen\n.', 'io.open'],
    ['ccopyreg\nadd_extension\n.', 'copyreg.add_extension'],
    ['cpty\nspawn\n.', 'pty.spawn'],
    ['csys\nmodules\n.', 'sys.modules'],
    ['ccode\nInteractiveInterpreter\n.', 'code.InteractiveInterpreter'],
    ['ctorch.storage\n_load_from_bytes\n.', 'torch.storage._load_from_bytes'],
    ['ctorch.fx.graph_module\nreduce_graph_module\n.', 'torch.fx.graph_module.reduce_graph_module'],
  ])('%j names %s', (pickle, name) => {
    expect(hostileName(bytesOf(pickle))).toBe(name)
  })

  it('refuses at the GLOBAL even when the rest of the pickle is garbage', () => {
    expect(hostileName(bytesOf('cos\nsystem\n\xff\xff'))).toBe('os.system')
  })

  it.each([
    'cpytorch_lightning.callbacks.model_checkpoint\nModelCheckpoint\n.',
    'cnumpy.core.multiarray\nscalar\n.',
    'cnumpy\ndtype\n.',
    'ctorch.torch_version\nTorchVersion\n.',
    'ctorch._utils\n_rebuild_qtensor\n.',
    'ctorch.nn.modules.conv\nConv2d\n.',
    'c__main__\nConfig\n.',
    'cfunctools\npartial\n.',
    'comegaconf.dictconfig\nDictConfig\n.',
    'ctyping\nAny\n.',
    'cargparse\nNamespace\n.',
    'ccopyreg\n_reconstructor\n.',
    'cbuiltins\nobject\n.',
    'ctorch.serialization\n_get_layout\n.',
  ])('accepts %j as an inert name', (pickle) => {
    expect(hostileName(bytesOf(pickle))).toBe(null)
  })
})

describe('malformed pickles fail with BAD_PICKLE at the opcode', () => {
  it.each([
    ['K\x01', /at byte 2 \(end of data\): the pickle ends without a STOP opcode/],
    ['K', /at byte 0 \(BININT1\): needs 1 bytes but the pickle ends after 0/],
    ['X\xff\xff\xff\xffabc.', /at byte 0 \(BINUNICODE\): needs 4294967295 bytes but the pickle ends after 4/],
    ['\x8e\xff\xff\xff\xff\xff\xff\xff\x7fab.', /at byte 0 \(BINBYTES8\): needs \d+ bytes but the pickle ends/],
    ['\x8b\x00\x00\x00\x40.', /\(LONG4\): a 1073741824-byte integer/],
    ['\x8b\xff\xff\xff\xff.', /\(LONG4\): negative length -1/],
    ['h\x05.', /at byte 0 \(BINGET\): memo entry 5 was never stored/],
    ['.', /at byte 0 \(STOP\): STOP with an empty stack/],
    ['t.', /\(TUPLE\): no MARK to pop to/],
    ['N(.', /\(STOP\): STOP with an empty stack/],
    ['\x80\x06N.', /\(PROTO\): unsupported pickle protocol 6/],
    ['\x82\x01.', /\(EXT1\): uses the copyreg extension registry/],
    ['\x97.', /\(NEXT_BUFFER\): uses out-of-band buffers/],
    ['\xfe', /at byte 0 \(opcode 0xfe\): unknown opcode 0xfe/],
    ['NNR.', /\(REDUCE\): REDUCE arguments are None, not a tuple/],
    ['K\x01)R.', /\(REDUCE\): calls a number, which is not a class or function named by the pickle/],
    ['NK\x01a.', /\(APPEND\): APPEND on None/],
    ['}(K\x01u.', /\(SETITEMS\): 1 items cannot form key\/value pairs/],
    ['Iabc\n.', /\(INT\): "abc" is not an integer/],
    ["S'abc\n.", /\(STRING\): the STRING argument must be quoted/],
    ['c\nsystem\n.', /\(GLOBAL\): names " system", which is not a Python module and name/],
    ['\x8c\x02\xc3(.', /\(SHORT_BINUNICODE\): a string is not valid UTF-8/],
    ['ccollections\nOrderedDict\nK\x01\x85R.', /\(REDUCE\): collections\.OrderedDict of a number/],
    ['ctorch._utils\n_rebuild_tensor_v2\n(NK\x00)))\x89Nt R.'.replace(' ', ''), /_rebuild_tensor_v2: the storage argument is None, not a storage/],
    ['Q.', /\(BINPERSID\): the stack is empty/],
  ])('%j', (pickle, message) => {
    expect(problem(bytesOf(pickle))).toMatch(message)
  })

  it('bounds mark nesting', () => {
    expect(problem(bytesOf('('.repeat(20_000)))).toMatch(/\(MARK\): marks nest deeper than 10000/)
  })

  it('names the file and the pickle', () => {
    expect(problem(bytesOf('K\x01'))).toMatch(/^test\.pkl: the pickle is malformed at byte 2 /)
  })

  it('asks for more bytes, instead of failing, when the data is only the start of the file', () => {
    const pickle = Buffer.from(cases.find((c) => c.name === 'memo protocol 2')!.hex, 'hex')
    for (let length = 0; length < pickle.length; length += 7) {
      expect(() => load(pickle.subarray(0, length), false)).toThrow(NeedMoreBytes)
    }
  })
})

describe('unpickle never fails in any other way', () => {
  const valid = cases.map((c) => Buffer.from(c.hex, 'hex'))
  const outcome = (bytes: Uint8Array): string => {
    try {
      load(bytes)
      return 'loaded'
    } catch (err) {
      if (err instanceof AmalgamError && (err.code === 'BAD_PICKLE' || err.code === 'HOSTILE_PICKLE')) return err.code
      throw err
    }
  }

  it('on every truncation of every CPython pickle', () => {
    for (const pickle of valid) {
      for (let length = 0; length < pickle.length; length += Math.max(1, Math.floor(pickle.length / 200))) {
        expect(outcome(pickle.subarray(0, length))).toBe('BAD_PICKLE')
      }
    }
  })

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['loaded', 'BAD_PICKLE', 'HOSTILE_PICKLE']).toContain(outcome(bytes))
      }),
      { numRuns: 2000 },
    )
  })

  it('on CPython pickles with bytes overwritten', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid.filter((p) => p.length < 4000)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (pickle, edits) => {
          const bytes = Uint8Array.from(pickle)
          for (const [at, value] of edits) bytes[at % bytes.length] = value
          expect(['loaded', 'BAD_PICKLE', 'HOSTILE_PICKLE']).toContain(outcome(bytes))
        },
      ),
      { numRuns: 2000 },
    )
  })
})
