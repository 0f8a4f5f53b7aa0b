import { readdir, readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import nodePath from 'node:path'
import { type AppBootstrap, BOOTSTRAP_PLACEHOLDER, bootstrapJson } from '../src/bootstrap'

/**
 * Serves the built app (Vite's `dist/`): `index.html` with the run's bootstrap (token included) written into it,
 * and the hashed assets. Only files that exist under `dist/` are served, looked up in a list made at startup, so
 * no request path is ever joined onto the file system.
 */

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

/**
 * The page's Content-Security-Policy: scripts only from this server (the bootstrap is JSON, which never runs);
 * inline styles are allowed because React's `style` props and sonner's stylesheet need them; no framing, no form
 * posts elsewhere, no connections but back to this server.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join('; ')

/** The built app, read once at startup. */
export interface StaticFiles {
  /** Sends `index.html` with `bootstrap` in it. */
  sendIndex(res: ServerResponse, bootstrap: AppBootstrap): void
  /** Sends the asset at the URL path `pathname` (`/assets/index-abc123.js`); false when there is none. */
  sendAsset(res: ServerResponse, pathname: string): Promise<boolean>
}

/** Reads `dist/index.html` and lists the files under `dist/`; rejects with a hint when the app was not built. */
export async function loadStaticFiles(distDir: string): Promise<StaticFiles> {
  let index: string
  try {
    index = await readFile(nodePath.join(distDir, 'index.html'), 'utf8')
  } catch {
    throw new Error(
      `The app is not built: ${distDir}/index.html is missing. Run \`npm start\`, which builds it.`,
    )
  }
  if (!index.includes(BOOTSTRAP_PLACEHOLDER)) {
    throw new Error(`${distDir}/index.html has no bootstrap placeholder; rebuild the app.`)
  }
  const assets = new Map<string, string>()
  for (const entry of await readdir(distDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const file = nodePath.join(entry.parentPath, entry.name)
    const urlPath = `/${nodePath.relative(distDir, file).split(nodePath.sep).join('/')}`
    if (urlPath !== '/index.html') assets.set(urlPath, file)
  }

  return {
    sendIndex(res, bootstrap) {
      const html = index.replace(BOOTSTRAP_PLACEHOLDER, () => bootstrapJson(bootstrap))
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        // The page holds this run's token: never stored by the browser or a proxy, never shown in a frame.
        'cache-control': 'no-store',
        'content-security-policy': CSP,
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
      })
      res.end(html)
    },
    async sendAsset(res, pathname) {
      const file = assets.get(pathname)
      if (file === undefined) return false
      const body = await readFile(file)
      res.writeHead(200, {
        'content-type': TYPES[nodePath.extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        // Vite puts a content hash in every asset name: a changed file is a new name.
        'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      })
      res.end(body)
      return true
    },
  }
}
