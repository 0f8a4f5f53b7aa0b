import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The checks the app server runs on its own endpoints (the page and the developer fault endpoint), the same ones
 * `createRpcHandler` runs on the rpc bridge:
 * - Host must name this loopback server. A page of evil.example whose name was rebound to 127.0.0.1 reaches the
 *   socket, but says `Host: evil.example`: without this check it could read `index.html`, and the token in it.
 * - Origin, when a browser sends one, must be this server's own.
 * - The token, for anything that changes state.
 */

/** Why a request was refused, or null when it passed. */
export interface Refusal {
  status: number
  message: string
}

/** Host and Origin: the request comes from this server's own pages (or from no page at all, such as curl). */
export function checkLocalOrigin(req: IncomingMessage): Refusal | null {
  const port = req.socket.localPort
  const host = (req.headers.host ?? '').toLowerCase()
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    return { status: 403, message: 'The request was not addressed to this local server.' }
  }
  const origin = req.headers.origin
  if (origin !== undefined && origin !== `http://${host}`) {
    return { status: 403, message: 'Pages of this origin may not call the server.' }
  }
  return null
}

/** Creates a constant-time check of `Authorization: Bearer <token>`. */
export function bearerCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = digest(token)
  return (req) => {
    const match = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')
    return match !== null && timingSafeEqual(digest(match[1]!), expected)
  }
}

/** Reads a small JSON body; null when it is larger than `maxBytes`, not JSON, or the client went away. */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (value: unknown | null) => {
      if (done) return
      done = true
      resolve(value)
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        finish(null)
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      try {
        finish(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        finish(null)
      }
    })
    req.on('error', () => finish(null))
    req.on('close', () => finish(null))
  })
}

/** Answers with a JSON body that is never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(text)
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
