/**
 * JSON.parse silently keeps the last of two equal keys; a safetensors header with a repeated tensor
 * name (or a repeated field inside an entry) is ambiguous, so it must be rejected instead. Given text
 * that JSON.parse accepted and what it returned, this returns the first key that repeats within one
 * object (compared after unescaping, so "a" and "\u0061" are the same key), or null.
 *
 * Headers are opened by the hundred when a library is scanned, so the common case is made cheap: when
 * the text has as many keys as the parsed value, nothing was dropped and nothing repeats.
 */
export function findDuplicateKey(json: string, parsed: object): string | null {
  return countKeysInText(json) === countParsedKeys(parsed) ? null : firstRepeatedKey(json)
}

/** Every ':' outside a string separates an object key from its value. */
function countKeysInText(json: string): number {
  let count = 0
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === 0x3a /* : */) count++
    else if (c === 0x22 /* " */) i = closingQuote(json, i)
  }
  return count
}

function countParsedKeys(value: object): number {
  // only objects are recursed into: tensor shapes are arrays of numbers, thousands of them
  let count = 0
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (typeof item === 'object' && item !== null) count += countParsedKeys(item)
  } else {
    // for-in allocates nothing; objects from JSON.parse have no inherited enumerable keys
    const record = value as Record<string, unknown>
    for (const key in record) {
      count++
      const item = record[key]
      if (typeof item === 'object' && item !== null) count += countParsedKeys(item)
    }
  }
  return count
}

function firstRepeatedKey(json: string): string | null {
  // one entry per open container: the keys seen so far for an object, null for an array
  const stack: (Set<string> | null)[] = []
  let expectKey = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === 0x7b /* { */) {
      stack.push(new Set())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      stack.push(null)
      expectKey = false
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
      expectKey = false
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null
    } else if (c === 0x22 /* " */) {
      const end = closingQuote(json, i)
      const keys = stack[stack.length - 1]
      if (expectKey && keys != null) {
        const raw = json.slice(i + 1, end)
        const key = raw.includes('\\') ? (JSON.parse(json.slice(i, end + 1)) as string) : raw
        if (keys.has(key)) return key
        keys.add(key)
        expectKey = false
      }
      i = end
    }
  }
  return null
}

/** Index of the quote that closes the string opened at `open` (a quote preceded by an odd run of backslashes is escaped). */
function closingQuote(json: string, open: number): number {
  let from = open + 1
  for (;;) {
    const q = json.indexOf('"', from)
    if (q < 0) return json.length
    let backslashes = 0
    while (json.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return q
    from = q + 1
  }
}
