import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import { type ExitFlushReport, installExitFlush, signalExitCode } from '../../src/node/exit-flush'
import { killAllFixtures, startFixture } from './fixtures/child-process'

let dir: string
const uninstalls: (() => void)[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'saveflow-exit-'))
})

afterEach(async () => {
  for (const uninstall of uninstalls.splice(0)) uninstall()
  await killAllFixtures()
  await rm(dir, { recursive: true, force: true })
})

function flusher(flushMs: number, deadlineMs: number, mode: 'keep-alive' | 'run-dry' = 'keep-alive') {
  const out = join(dir, 'saved.txt')
  const child = startFixture('exit-flusher', [out, String(flushMs), String(deadlineMs), mode])
  return {
    child,
    saved: () => readFile(out, 'utf8'),
    report: async () => JSON.parse(await readFile(`${out}.done`, 'utf8')) as ExitFlushReport,
  }
}

describe('installExitFlush', () => {
  describe('in a real process', () => {
    it('finishes a slow flush on SIGTERM, releases, then exits with 143', async () => {
      const { child, saved, report } = flusher(200, 10_000)
      await child.line((line) => line === 'READY')

      child.process.kill('SIGTERM')

      expect(await child.exited).toEqual({ code: 143, signal: null })
      expect(await saved()).toBe('begin\nend\n')
      expect(await report()).toEqual({
        trigger: 'SIGTERM',
        exitCode: 143,
        outcome: 'flushed',
        result: ['saved'],
      })
    })

    it('exits with 130 after flushing on SIGINT', async () => {
      const { child, saved } = flusher(50, 10_000)
      await child.line((line) => line === 'READY')

      child.process.kill('SIGINT')

      expect(await child.exited).toEqual({ code: 130, signal: null })
      expect(await saved()).toBe('begin\nend\n')
    })

    it('exits by the deadline when the flush is slower, still releasing', async () => {
      const { child, saved, report } = flusher(60_000, 300)
      await child.line((line) => line === 'READY')

      child.process.kill('SIGTERM')

      expect(await child.exited).toEqual({ code: 143, signal: null })
      expect(await saved()).toBe('begin\n')
      expect(await report()).toMatchObject({ trigger: 'SIGTERM', outcome: 'timeout' })
    })

    it('exits at once on a second signal', async () => {
      const { child, saved } = flusher(60_000, 60_000)
      await child.line((line) => line === 'READY')

      child.process.kill('SIGTERM')
      await child.line((line) => line === 'FLUSHING')
      child.process.kill('SIGINT')

      expect(await child.exited).toEqual({ code: 130, signal: null })
      expect(await saved()).not.toContain('end')
    })

    it('flushes once when the event loop runs dry, keeping the normal exit code', async () => {
      const { child, saved, report } = flusher(100, 10_000, 'run-dry')

      expect(await child.exited).toEqual({ code: 0, signal: null })
      expect(child.lines.filter((line) => line === 'FLUSHING')).toHaveLength(1)
      expect(await saved()).toBe('begin\nend\n')
      expect(await report()).toEqual({ trigger: 'beforeExit', outcome: 'flushed', result: ['saved'] })
    })
  })

  // In-process: a signal no test runner listens to, emitted (not sent), and `exit` replaced.
  describe('in this process', () => {
    const SIGNAL = 'SIGUSR2'

    function install(options: Partial<Parameters<typeof installExitFlush>[0]> = {}) {
      const exit = vi.fn()
      const onDone = vi.fn()
      const uninstall = installExitFlush({
        flushAll: async () => 'ok',
        signals: [SIGNAL],
        beforeExit: false,
        exit,
        onDone,
        ...options,
      })
      uninstalls.push(uninstall)
      return { exit, onDone, uninstall }
    }

    it('computes the conventional exit codes', () => {
      expect(signalExitCode('SIGINT')).toBe(130)
      expect(signalExitCode('SIGTERM')).toBe(143)
      expect(signalExitCode('SIGHUP')).toBe(129)
    })

    it('passes the deadline to flushAll and reports a failed flush as a SaveflowError, then exits', async () => {
      const flushAll = vi.fn(async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      })
      const { exit, onDone } = install({ flushAll, deadlineMs: 1234 })

      process.emit(SIGNAL, SIGNAL)

      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(signalExitCode(SIGNAL)))
      expect(flushAll).toHaveBeenCalledWith({ deadlineMs: 1234 })
      const report = onDone.mock.calls[0]?.[0] as ExitFlushReport
      expect(report.outcome).toBe('failed')
      expect(report.error).toBeInstanceOf(SaveflowError)
      expect(report.error?.code).toBe('permission-denied')
    })

    it('exits even when releasing hangs, after the grace period', async () => {
      const { exit } = install({ onDone: () => new Promise(() => {}), graceMs: 20 })

      process.emit(SIGNAL, SIGNAL)

      await vi.waitFor(() => expect(exit).toHaveBeenCalledTimes(1))
    })

    it('stops listening once uninstalled', () => {
      const before = process.listenerCount(SIGNAL)
      const { uninstall, exit } = install()
      expect(process.listenerCount(SIGNAL)).toBe(before + 1)

      uninstall()

      expect(process.listenerCount(SIGNAL)).toBe(before)
      expect(exit).not.toHaveBeenCalled()
    })
  })
})
