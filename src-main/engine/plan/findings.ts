import type { PlanFinding } from '../../common/plan-summary'

/** Example keys kept per finding: enough to recognise the pattern, few enough to read. */
const EXAMPLE_KEYS = 5

type Severity = PlanFinding['severity']

interface KeyedFinding {
  readonly severity: Severity
  readonly message: (count: number) => string
  readonly keys: string[]
  count: number
}

/**
 * The planner's findings, in the order first seen. Findings about keys are grouped: one finding per
 * code with a count and a few example keys, instead of one line per key.
 */
export class Findings {
  private readonly list: (PlanFinding | { readonly keyed: string })[] = []
  private readonly keyed = new Map<string, KeyedFinding>()

  add(severity: Severity, code: string, message: string): void {
    this.list.push({ severity, code, message })
  }

  /** Counts `key` under `code`; `message` gets the final count when the findings are listed. */
  addKey(severity: Severity, code: string, key: string, message: (count: number) => string): void {
    let entry = this.keyed.get(code)
    if (entry === undefined) {
      entry = { severity, message, keys: [], count: 0 }
      this.keyed.set(code, entry)
      this.list.push({ keyed: code })
    }
    entry.count++
    if (entry.keys.length < EXAMPLE_KEYS) entry.keys.push(key)
  }

  all(): PlanFinding[] {
    return this.list.map((item) => {
      if (!('keyed' in item)) return item
      const entry = this.keyed.get(item.keyed)!
      return { severity: entry.severity, code: item.keyed, message: entry.message(entry.count), keys: [...entry.keys] }
    })
  }
}

/** "1 key" / "3 keys" */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
