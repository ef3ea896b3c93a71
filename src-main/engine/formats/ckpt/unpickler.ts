import { AmalgamError, fileError } from '../../errors'
import { classifyGlobal } from './pickle-globals'
import { PyDict, PyGlobal, PyList, PyObject, PySet, PyTuple, type PyValue } from './pickle-values'

/*
 * A pickle virtual machine (protocols 0–5) that only builds data. It follows CPython's
 * Lib/pickle.py opcode by opcode, except that a named global is classified (pickle-globals.ts)
 * instead of imported, and every "call" goes to `hooks.call`, which returns data or an inert
 * placeholder. Input is untrusted: every length is checked against the bytes that remain, and the
 * stack, mark depth, memo and integer sizes are bounded, so a hostile pickle can neither run code
 * nor exhaust memory or time.
 */

export interface UnpicklerHooks {
  /** BINPERSID / PERSID: what a persistent id stands for (torch: a storage) */
  persistentLoad(pid: PyValue): PyValue
  /** REDUCE, INST and OBJ call a global ('call'); NEWOBJ(_EX) allocate an instance of it ('new') */
  call(callable: PyGlobal, args: readonly PyValue[], how: 'call' | 'new'): PyValue
}

export interface UnpickleOptions {
  /** the checkpoint, for messages */
  readonly file: string
  /** which pickle this is, for messages ("data.pkl") */
  readonly label: string
  readonly hooks: UnpicklerHooks
  /**
   * false when `bytes` is only the start of a longer file: running out of bytes then throws
   * NeedMoreBytes so the caller can read more and start again, instead of failing
   */
  readonly complete: boolean
}

/** A hook's complaint about the data it was given; reported as BAD_PICKLE at the current opcode. */
export class PickleProblem extends Error {}

/** The pickle continues past the bytes provided (only when `complete` is false). */
export class NeedMoreBytes extends Error {}

const MAX_STACK_ITEMS = 20_000_000
const MAX_MEMO_ENTRIES = 10_000_000
const MAX_MARK_DEPTH = 10_000
/** torch never pickles integers wider than 10 bytes; Python would accept any width */
const MAX_LONG_BYTES = 4096
const HIGHEST_PROTOCOL = 5
const END_OF_DATA = -1

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Runs the pickle that starts at `start`; returns its value and the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, start: number, options: UnpickleOptions): { value: PyValue; end: number } {
  return new Machine(bytes, start, options).run()
}

class Machine {
  private pos: number
  private opStart = 0
  private opcode = 0
  private readonly stack: PyValue[] = []
  /** stack lengths at each MARK (CPython keeps a metastack of lists; indices are equivalent) */
  private readonly marks: number[] = []
  /** indices are dense in practice (BINPUT 0, 1, 2…); a sparse one makes V8 switch the array to a dictionary */
  private readonly memo: (PyValue | undefined)[] = []
  private memoSize = 0
  private pushed = 0
  private readonly view: DataView

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly options: UnpickleOptions,
  ) {
    this.pos = start
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  run(): { value: PyValue; end: number } {
    try {
      for (;;) {
        this.opStart = this.pos
        this.opcode = END_OF_DATA
        if (this.remaining() === 0 && this.options.complete) throw new PickleProblem('the pickle ends without a STOP opcode (truncated?)')
        this.opcode = this.u8()
        const stopped = this.step(this.opcode)
        if (stopped !== undefined) return { value: stopped, end: this.pos }
      }
    } catch (err) {
      if (err instanceof AmalgamError || err instanceof NeedMoreBytes) throw err
      if (err instanceof PickleProblem) throw this.malformed(err.message)
      throw err
    }
  }

  private malformed(problem: string): AmalgamError {
    const name = this.opcode === END_OF_DATA ? 'end of data' : (OPCODE_NAMES[this.opcode] ?? `opcode 0x${this.opcode.toString(16).padStart(2, '0')}`)
    return fileError('BAD_PICKLE', this.options.file, `${this.options.label} is malformed at byte ${this.opStart} (${name}): ${problem}`)
  }

  /** Executes one opcode; returns the pickle's value at STOP. */
  private step(op: number): PyValue | undefined {
    switch (op) {
      case 0x80: {
        const protocol = this.u8()
        if (protocol > HIGHEST_PROTOCOL) throw new PickleProblem(`unsupported pickle protocol ${protocol}`)
        return undefined
      }
      case 0x95: {
        const length = this.u64()
        if (this.options.complete && length > this.remaining()) throw new PickleProblem(`frame of ${length} bytes, only ${this.remaining()} remain`)
        return undefined
      }
      case 0x2e: {
        if (this.stack.length <= this.frameStart()) throw new PickleProblem('STOP with an empty stack')
        return this.pop()
      }
      // ---- marks and stack manipulation
      case 0x28:
        if (this.marks.length >= MAX_MARK_DEPTH) throw new PickleProblem(`marks nest deeper than ${MAX_MARK_DEPTH}`)
        this.marks.push(this.stack.length)
        return undefined
      case 0x30:
        if (this.stack.length > this.frameStart()) this.stack.pop()
        else this.popMark()
        return undefined
      case 0x31:
        this.popMark()
        return undefined
      case 0x32:
        this.push(this.top())
        return undefined
      // ---- constants and numbers
      case 0x4e:
        this.push(null)
        return undefined
      case 0x88:
        this.push(true)
        return undefined
      case 0x89:
        this.push(false)
        return undefined
      case 0x4a:
        this.push(this.view.getInt32(this.take(4), true))
        return undefined
      case 0x4b:
        this.push(this.u8())
        return undefined
      case 0x4d:
        this.push(this.view.getUint16(this.take(2), true))
        return undefined
      case 0x8a:
        this.push(this.long(this.u8()))
        return undefined
      case 0x8b: {
        const length = this.view.getInt32(this.take(4), true)
        if (length < 0) throw new PickleProblem(`negative length ${length}`)
        this.push(this.long(length))
        return undefined
      }
      case 0x47:
        this.push(this.view.getFloat64(this.take(8), false))
        return undefined
      case 0x49:
        this.push(parseTextInt(this.line(), true))
        return undefined
      case 0x4c:
        this.push(parseTextInt(this.line().replace(/L$/, ''), false))
        return undefined
      case 0x46:
        this.push(parseTextFloat(this.line()))
        return undefined
      // ---- strings and bytes
      case 0x58:
        this.push(this.text(this.u32()))
        return undefined
      case 0x8c:
        this.push(this.text(this.u8()))
        return undefined
      case 0x8d:
        this.push(this.text(this.u64()))
        return undefined
      case 0x42:
        this.push(this.raw(this.u32()).slice())
        return undefined
      case 0x43:
        this.push(this.raw(this.u8()).slice())
        return undefined
      case 0x8e:
      case 0x96:
        this.push(this.raw(this.u64()).slice())
        return undefined
      case 0x54: {
        const length = this.view.getInt32(this.take(4), true)
        if (length < 0) throw new PickleProblem(`negative length ${length}`)
        this.push(decodeUtf8(this.raw(length)))
        return undefined
      }
      case 0x55:
        this.push(decodeUtf8(this.raw(this.u8())))
        return undefined
      case 0x53:
        this.push(decodeUtf8(unquotePythonString(this.lineBytes())))
        return undefined
      case 0x56:
        this.push(decodeRawUnicodeEscape(this.lineBytes()))
        return undefined
      // ---- containers
      case 0x29:
        this.push(new PyTuple([]))
        return undefined
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op - 0x84
        if (this.stack.length - this.frameStart() < n) throw new PickleProblem(`needs ${n} items on the stack`)
        this.push(new PyTuple(this.stack.splice(this.stack.length - n, n)))
        return undefined
      }
      case 0x74:
        this.push(new PyTuple(this.popMark()))
        return undefined
      case 0x5d:
        this.push(new PyList())
        return undefined
      case 0x6c:
        this.push(new PyList(this.popMark()))
        return undefined
      case 0x7d:
        this.push(new PyDict())
        return undefined
      case 0x64: {
        const dict = new PyDict()
        setItems(dict, this.popMark())
        this.push(dict)
        return undefined
      }
      case 0x8f:
        this.push(new PySet())
        return undefined
      case 0x91:
        this.push(new PySet(this.popMark()))
        return undefined
      case 0x61: {
        const item = this.pop()
        appendTo(this.top(), [item])
        return undefined
      }
      case 0x65: {
        const items = this.popMark()
        appendTo(this.top(), items)
        return undefined
      }
      case 0x73: {
        const value = this.pop()
        const key = this.pop()
        setItemsOn(this.top(), [key, value])
        return undefined
      }
      case 0x75: {
        const items = this.popMark()
        setItemsOn(this.top(), items)
        return undefined
      }
      case 0x90: {
        const items = this.popMark()
        const target = this.top()
        if (target instanceof PySet) for (const item of items) target.items.push(item)
        else if (target instanceof PyObject) for (const item of items) target.listItems.push(item)
        else throw new PickleProblem(`ADDITEMS on ${describe(target)}`)
        return undefined
      }
      // ---- memo
      case 0x71:
        this.put(this.u8())
        return undefined
      case 0x72:
        this.put(this.u32())
        return undefined
      case 0x70:
        this.put(parseIndex(this.line()))
        return undefined
      case 0x94:
        this.put(this.memoSize)
        return undefined
      case 0x68:
        this.get(this.u8())
        return undefined
      case 0x6a:
        this.get(this.u32())
        return undefined
      case 0x67:
        this.get(parseIndex(this.line()))
        return undefined
      // ---- globals, calls and objects
      case 0x63: {
        const module = this.line()
        const name = this.line()
        this.push(this.global(module, name))
        return undefined
      }
      case 0x93: {
        const name = this.pop()
        const module = this.pop()
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleProblem('STACK_GLOBAL needs two strings')
        this.push(this.global(module, name))
        return undefined
      }
      case 0x69: {
        const module = this.line()
        const name = this.line()
        const callable = this.global(module, name)
        this.push(this.options.hooks.call(callable, this.popMark(), 'call'))
        return undefined
      }
      case 0x6f: {
        const [callable, ...args] = this.popMark()
        if (callable === undefined) throw new PickleProblem('OBJ needs a class after its MARK')
        this.push(this.options.hooks.call(asGlobal(callable), args, 'call'))
        return undefined
      }
      case 0x52: {
        const args = this.pop()
        const callable = this.pop()
        if (!(args instanceof PyTuple)) throw new PickleProblem(`REDUCE arguments are ${describe(args)}, not a tuple`)
        this.push(this.options.hooks.call(asGlobal(callable), args.items, 'call'))
        return undefined
      }
      case 0x81: {
        const args = this.pop()
        const cls = this.pop()
        if (!(args instanceof PyTuple)) throw new PickleProblem(`NEWOBJ arguments are ${describe(args)}, not a tuple`)
        this.push(this.options.hooks.call(asGlobal(cls), args.items, 'new'))
        return undefined
      }
      case 0x92: {
        this.pop() // keyword arguments: placeholders keep positional ones only
        const args = this.pop()
        const cls = this.pop()
        if (!(args instanceof PyTuple)) throw new PickleProblem(`NEWOBJ_EX arguments are ${describe(args)}, not a tuple`)
        this.push(this.options.hooks.call(asGlobal(cls), args.items, 'new'))
        return undefined
      }
      case 0x62: {
        const state = this.pop()
        const target = this.top()
        // only placeholders keep state; on data (a dict's attributes, a tensor's hooks) it has no meaning here
        if (target instanceof PyObject) target.state = state
        return undefined
      }
      case 0x51:
        this.push(this.options.hooks.persistentLoad(this.pop()))
        return undefined
      case 0x50:
        this.push(this.options.hooks.persistentLoad(this.line()))
        return undefined
      case 0x82:
      case 0x83:
      case 0x84:
        throw new PickleProblem('uses the copyreg extension registry, which torch never writes and Python leaves empty')
      case 0x97:
      case 0x98:
        throw new PickleProblem('uses out-of-band buffers, which torch never writes')
      default:
        throw new PickleProblem(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`)
    }
  }

  private global(module: string, name: string): PyGlobal {
    const verdict = classifyGlobal(module, name)
    if (verdict.kind === 'hostile') {
      throw fileError('HOSTILE_PICKLE', this.options.file, `refused: the pickle calls ${printable(verdict.name)} (a hostile or unsafe checkpoint); nothing was executed`)
    }
    if (verdict.kind === 'invalid') throw new PickleProblem(`names ${JSON.stringify(printable(`${module} ${name}`))}, which is not a Python module and name`)
    return verdict.value
  }

  // ---- stack

  private frameStart(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1]!
  }

  private push(value: PyValue): void {
    if (++this.pushed > MAX_STACK_ITEMS) throw new PickleProblem(`builds more than ${MAX_STACK_ITEMS} values`)
    this.stack.push(value)
  }

  private pop(): PyValue {
    if (this.stack.length <= this.frameStart()) throw new PickleProblem('the stack is empty')
    return this.stack.pop()!
  }

  private top(): PyValue {
    if (this.stack.length <= this.frameStart()) throw new PickleProblem('the stack is empty')
    return this.stack[this.stack.length - 1]!
  }

  private popMark(): PyValue[] {
    const mark = this.marks.pop()
    if (mark === undefined) throw new PickleProblem('no MARK to pop to')
    return this.stack.splice(mark)
  }

  private put(index: number): void {
    if (this.memo[index] === undefined) {
      if (this.memoSize >= MAX_MEMO_ENTRIES) throw new PickleProblem(`memoizes more than ${MAX_MEMO_ENTRIES} values`)
      this.memoSize++
    }
    this.memo[index] = this.top()
  }

  private get(index: number): void {
    const value = this.memo[index]
    if (value === undefined) throw new PickleProblem(`memo entry ${index} was never stored`)
    this.push(value)
  }

  // ---- reading

  private remaining(): number {
    return this.bytes.length - this.pos
  }

  /** Claims `n` bytes and returns where they start. */
  private take(n: number): number {
    if (n > this.remaining()) {
      if (!this.options.complete) throw new NeedMoreBytes()
      throw new PickleProblem(`needs ${n} bytes but the pickle ends after ${this.remaining()} (truncated?)`)
    }
    const at = this.pos
    this.pos += n
    return at
  }

  private u8(): number {
    return this.bytes[this.take(1)]!
  }

  private u32(): number {
    return this.view.getUint32(this.take(4), true)
  }

  /** An 8-byte length; anything past the safe-integer range is larger than any file anyway. */
  private u64(): number {
    const value = this.view.getBigUint64(this.take(8), true)
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value)
  }

  private raw(length: number): Uint8Array {
    const at = this.take(length)
    return this.bytes.subarray(at, at + length)
  }

  private text(length: number): string {
    return decodeUtf8(this.raw(length))
  }

  private lineBytes(): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos)
    if (end === -1) {
      if (!this.options.complete) throw new NeedMoreBytes()
      throw new PickleProblem('the line argument has no end (truncated?)')
    }
    const line = this.bytes.subarray(this.pos, end)
    this.pos = end + 1
    return line
  }

  private line(): string {
    return decodeUtf8(this.lineBytes())
  }

  private long(length: number): number | bigint {
    if (length > MAX_LONG_BYTES) throw new PickleProblem(`a ${length}-byte integer (the limit is ${MAX_LONG_BYTES})`)
    return decodeLong(this.raw(length))
  }
}

function asGlobal(value: PyValue): PyGlobal {
  if (value instanceof PyGlobal) return value
  throw new PickleProblem(`calls ${describe(value)}, which is not a class or function named by the pickle`)
}

function appendTo(target: PyValue, items: readonly PyValue[]): void {
  if (target instanceof PyList) for (const item of items) target.items.push(item)
  else if (target instanceof PyObject) for (const item of items) target.listItems.push(item)
  else throw new PickleProblem(`APPEND on ${describe(target)}`)
}

function setItemsOn(target: PyValue, items: readonly PyValue[]): void {
  if (target instanceof PyDict) setItems(target, items)
  else if (target instanceof PyObject) setItems(target.dictItems, items)
  else throw new PickleProblem(`SETITEM on ${describe(target)}`)
}

function setItems(dict: PyDict, items: readonly PyValue[]): void {
  if (items.length % 2 !== 0) throw new PickleProblem(`${items.length} items cannot form key/value pairs`)
  for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!)
}

/** A short name for a value's kind, for messages. */
export function describe(value: PyValue): string {
  if (value === null) return 'None'
  if (typeof value === 'boolean') return 'a bool'
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number'
  if (typeof value === 'string') return 'a string'
  if (value instanceof Uint8Array) return 'bytes'
  if (value instanceof PyTuple) return 'a tuple'
  if (value instanceof PyList) return 'a list'
  if (value instanceof PyDict) return 'a dict'
  if (value instanceof PySet) return 'a set'
  if (value instanceof PyGlobal) return printable(value.qualifiedName)
  if (value instanceof PyObject) return `a ${printable(value.type.qualifiedName)} object`
  return `a ${value.constructor.name}`
}

/** Names from a hostile file go into one-line messages: no control characters, bounded length. */
function printable(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, '?')
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new PickleProblem('a string is not valid UTF-8')
  }
}

/** Little-endian two's complement, as LONG1 / LONG4 store it. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!)
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8)
  return toNumberIfSafe(value)
}

function toNumberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

/** INT / LONG text arguments (protocol 0); INT 00 and 01 are False and True. */
function parseTextInt(text: string, boolCodes: boolean): number | bigint | boolean {
  if (boolCodes && text === '00') return false
  if (boolCodes && text === '01') return true
  if (!/^[+-]?\d{1,4300}$/.test(text)) throw new PickleProblem(`${JSON.stringify(printable(text.slice(0, 40)))} is not an integer`)
  return toNumberIfSafe(BigInt(text))
}

function parseTextFloat(text: string): number {
  const trimmed = text.trim()
  if (/^[+-]?(inf|infinity)$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity
  if (/^[+-]?nan$/i.test(trimmed)) return NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) throw new PickleProblem(`${JSON.stringify(printable(trimmed.slice(0, 40)))} is not a float`)
  return Number(trimmed)
}

function parseIndex(text: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new PickleProblem(`${JSON.stringify(printable(text.slice(0, 40)))} is not a memo index`)
  return Number(text)
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { '\\': 0x5c, "'": 0x27, '"': 0x22, a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 }

/** STRING's argument: a quoted Python 2 str literal, unescaped as codecs.escape_decode does. */
function unquotePythonString(line: Uint8Array): Uint8Array {
  const quote = line[0]
  if (line.length < 2 || (quote !== 0x22 && quote !== 0x27) || line[line.length - 1] !== quote) {
    throw new PickleProblem('the STRING argument must be quoted')
  }
  const body = line.subarray(1, -1)
  const out: number[] = []
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== 0x5c) {
      out.push(c)
      continue
    }
    if (++i === body.length) throw new PickleProblem('a STRING argument ends with a lone backslash')
    const code = body[i]!
    const next = String.fromCharCode(code)
    const hex = String.fromCharCode(body[i + 1] ?? 0, body[i + 2] ?? 0)
    const simple = SIMPLE_ESCAPES[next]
    if (simple !== undefined) out.push(simple)
    else if (next === '\n') continue
    else if (next === 'x') {
      if (!/^[0-9a-f]{2}$/i.test(hex)) throw new PickleProblem('invalid \\x escape in a STRING argument')
      out.push(parseInt(hex, 16))
      i += 2
    } else if (/[0-7]/.test(next)) {
      let digits = next
      while (digits.length < 3 && /[0-7]/.test(String.fromCharCode(body[i + 1] ?? 0))) digits += String.fromCharCode(body[++i]!)
      out.push(parseInt(digits, 8) & 0xff)
    } else {
      // Python keeps unknown escapes as written
      out.push(0x5c, code)
    }
  }
  return Uint8Array.from(out)
}

/**
 * UNICODE's argument, decoded as raw-unicode-escape: bytes are Latin-1 characters except \uXXXX
 * and \UXXXXXXXX, which are escapes only after an odd run of backslashes.
 */
function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    if (bytes[i] !== 0x5c) {
      out += String.fromCharCode(bytes[i++]!)
      continue
    }
    let end = i
    while (bytes[end] === 0x5c) end++
    const run = end - i
    out += '\\'.repeat(run - 1)
    const kind = bytes[end]
    if (run % 2 === 0 || (kind !== 0x75 && kind !== 0x55)) {
      out += '\\'
      i = end
      continue
    }
    const digits = kind === 0x75 ? 4 : 8
    const hex = Buffer.from(bytes.subarray(end + 1, end + 1 + digits)).toString('latin1')
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) throw new PickleProblem(`truncated \\${String.fromCharCode(kind)} escape in a UNICODE argument`)
    const code = parseInt(hex, 16)
    if (code > 0x10ffff) throw new PickleProblem(`\\U${hex} is not a Unicode code point`)
    out += String.fromCodePoint(code)
    i = end + 1 + digits
  }
  return out
}
