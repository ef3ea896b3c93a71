import type { IncomingMessage } from 'node:http'

/** A request body that cannot be dispatched, with the HTTP status that says why. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message)
  }
}

/** Reads and parses a JSON body of at most `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new BodyError(415, `expected Content-Type application/json, got "${type}"`)
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw new BodyError(413, `body of ${declared} bytes is larger than ${limit}`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new BodyError(413, `body is larger than ${limit} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new BodyError(400, `body is not valid JSON (${(err as Error).message})`)
  }
}
