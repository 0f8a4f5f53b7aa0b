/**
 * Watches what the process does to the disk, so the harness can state it rather than trust what a library reports:
 * which files and folders were fsynced, which files were replaced (rename onto them) or opened for writing, and how
 * many bytes went to `write` system calls.
 *
 * Import this module before any library under test: stubborn-fs (conf's atomically) and write-file-atomic keep
 * references to `fs` functions taken at their own load time, so the wrappers must be in place first. The wrappers
 * only record while a {@link traceFs} window is open; otherwise they cost one branch.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { performance } from 'node:perf_hooks'

/** One thing a library asked the file system to do. */
export interface FsEvent {
  op: 'fsync' | 'rename' | 'open-write' | 'write-file'
  /** Absolute path: the file or folder fsynced, the rename target, the file opened or written. */
  path: string
  /** For `fsync`: whether the descriptor is a folder. */
  isDirectory: boolean
  /** `performance.now()` when it was noted (a call's start for fsync, its success otherwise). */
  at: number
}

let recording: FsEvent[] | null = null

function pathOfFd(fd: number): { path: string; isDirectory: boolean } {
  try {
    const path = fs.readlinkSync(`/proc/self/fd/${fd}`)
    return { path, isDirectory: fs.fstatSync(fd).isDirectory() }
  } catch {
    return { path: `fd:${fd}`, isDirectory: false }
  }
}

const WRITE_FLAG = /[wa+]/
const isWriteFlag = (flags: unknown): boolean =>
  typeof flags === 'string'
    ? WRITE_FLAG.test(flags)
    : typeof flags === 'number' && (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0

const asPath = (value: unknown): string | null =>
  typeof value === 'string' ? value : value instanceof URL ? value.pathname : null

function note(op: FsEvent['op'], path: string | null, isDirectory = false): void {
  if (recording !== null && path !== null) recording.push({ op, path, isDirectory, at: performance.now() })
}

type AnyFn = (...args: unknown[]) => unknown

/** Wraps `target[name]` so `before` sees every call made while recording. */
function wrap(target: object, name: string, before: (args: unknown[], self: unknown) => void): void {
  const host = target as Record<string, AnyFn>
  const original = host[name]
  if (typeof original !== 'function') return
  host[name] = function wrapped(this: unknown, ...args: unknown[]) {
    if (recording !== null) before(args, this)
    return original.apply(this, args)
  }
}

/**
 * Wraps `target[name]` so `done` sees every call that succeeded (a failed `open(path, 'ax')` or a retried rename is
 * not a write). `form` says how the function reports: it returns, calls back (last argument), or resolves.
 */
function wrapDone(
  target: object,
  name: string,
  form: 'sync' | 'callback' | 'promise',
  done: (args: unknown[]) => void,
): void {
  const host = target as Record<string, AnyFn>
  const original = host[name]
  if (typeof original !== 'function') return
  host[name] = function wrapped(this: unknown, ...args: unknown[]) {
    if (recording === null) return original.apply(this, args)
    const window = recording
    const finish = () => {
      if (recording === window) done(args)
    }
    if (form === 'sync') {
      const result = original.apply(this, args)
      finish()
      return result
    }
    if (form === 'promise') {
      return (original.apply(this, args) as Promise<unknown>).then((value) => {
        finish()
        return value
      })
    }
    const callback = args[args.length - 1]
    if (typeof callback !== 'function') return original.apply(this, args)
    const copy = args.slice(0, -1)
    return original.call(this, ...copy, (error: unknown, ...rest: unknown[]) => {
      if (error === null || error === undefined) finish()
      ;(callback as AnyFn)(error, ...rest)
    })
  }
}

function install(): void {
  const syncFd = (args: unknown[]) => {
    const { path, isDirectory } = pathOfFd(args[0] as number)
    note('fsync', path, isDirectory)
  }
  for (const name of ['fsync', 'fsyncSync', 'fdatasync', 'fdatasyncSync']) wrap(fs, name, syncFd)
  const renameTo = (args: unknown[]) => note('rename', asPath(args[1]))
  wrapDone(fs, 'rename', 'callback', renameTo)
  wrapDone(fs, 'renameSync', 'sync', renameTo)
  wrapDone(fsp, 'rename', 'promise', renameTo)
  const openWrite = (args: unknown[]) => {
    if (isWriteFlag(args[1])) note('open-write', asPath(args[0]))
  }
  wrapDone(fs, 'open', 'callback', openWrite)
  wrapDone(fs, 'openSync', 'sync', openWrite)
  wrapDone(fsp, 'open', 'promise', openWrite)
  // Whole-file writers that do not go through the exported `open` (checked on Node 20); fs.writeFile and
  // fs.appendFile with a callback do, so they are not wrapped (that would count them twice).
  const writeFile = (args: unknown[]) => note('write-file', asPath(args[0]))
  for (const name of ['writeFileSync', 'appendFileSync']) wrapDone(fs, name, 'sync', writeFile)
  for (const name of ['writeFile', 'appendFile']) wrapDone(fsp, name, 'promise', writeFile)
  // FileHandle methods live on a prototype shared by every handle: reach it through one handle.
  void fsp.open(process.execPath, 'r').then(async (h) => {
    const proto = Object.getPrototypeOf(h) as object
    await h.close()
    const syncHandle = (_args: unknown[], self: unknown) => {
      const { path, isDirectory } = pathOfFd((self as { fd: number }).fd)
      note('fsync', path, isDirectory)
    }
    wrap(proto, 'sync', syncHandle)
    wrap(proto, 'datasync', syncHandle)
  })
  syncBuiltinESMExports()
}

install()

/** Waits until the FileHandle wrappers are in place (they need one open handle to reach the prototype). */
export async function fsTraceReady(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const h = await fsp.open(process.execPath, 'r')
    const proto = Object.getPrototypeOf(h) as { sync: { name: string } }
    await h.close()
    if (proto.sync.name === 'wrapped') return
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  throw new Error('fs-trace: FileHandle wrappers were not installed')
}

/** Runs `fn` and returns what it asked the file system to do (nested windows are not supported). */
export async function traceFs<T>(fn: () => Promise<T> | T): Promise<{ result: T; events: FsEvent[] }> {
  if (recording !== null) throw new Error('traceFs windows do not nest')
  const events: FsEvent[] = []
  recording = events
  try {
    const result = await fn()
    return { result, events }
  } finally {
    recording = null
  }
}

/** The kernel's I/O counters of this process (`/proc/self/io`), or null where there are none. */
export interface IoCounters {
  /** Bytes passed to write-like system calls (files, pipes, and libuv's 8-byte wake-ups). */
  wchar: number
  /** Write-like system calls. */
  syscw: number
  /** Bytes of page cache this process dirtied (page-granular: a 10-byte append counts 4096). */
  writeBytes: number
}

/** Reads `/proc/self/io`; all threads of the process are summed, libuv's thread pool included. */
export function ioCounters(): IoCounters | null {
  let text: string
  try {
    text = fs.readFileSync('/proc/self/io', 'utf8')
  } catch {
    return null
  }
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return { wchar: field('wchar'), syscw: field('syscw'), writeBytes: field('write_bytes') }
}

/** The difference of two readings (`after - before`), or null when either is missing. */
export function ioDelta(before: IoCounters | null, after: IoCounters | null): IoCounters | null {
  if (before === null || after === null) return null
  return {
    wchar: after.wchar - before.wchar,
    syscw: after.syscw - before.syscw,
    writeBytes: after.writeBytes - before.writeBytes,
  }
}
