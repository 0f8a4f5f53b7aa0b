import { describe, expect, it } from 'vitest'
import { colorEnabled, createOutput } from '../../src/cli/output'
import { createProgressBar } from '../../src/cli/progress'

function sink(isTTY: boolean) {
  const written: string[] = []
  return { written, isTTY, write: (text: string) => written.push(text) }
}

describe('colorEnabled', () => {
  it('colours a terminal only, and never when NO_COLOR is set or --no-color is given', () => {
    expect(colorEnabled(sink(true), {}, true)).toBe(true)
    expect(colorEnabled(sink(false), {}, true)).toBe(false)
    expect(colorEnabled(sink(true), { NO_COLOR: '1' }, true)).toBe(false)
    expect(colorEnabled(sink(true), {}, false)).toBe(false)
  })

  it('treats an empty NO_COLOR as unset, as no-color.org says', () => {
    expect(colorEnabled(sink(true), { NO_COLOR: '' }, true)).toBe(true)
  })

  it('gives escape codes on a terminal and plain text elsewhere', () => {
    const tty = createOutput(
      { stdout: sink(true), stderr: sink(true), env: {}, cwd: '/' },
      { json: false, color: true },
    )
    const pipe = createOutput(
      { stdout: sink(false), stderr: sink(false), env: {}, cwd: '/' },
      { json: false, color: true },
    )

    expect(tty.c.red('x')).toContain('\x1b[')
    expect(pipe.c.red('x')).toBe('x')
  })
})

describe('createProgressBar', () => {
  it('draws nothing when disabled (not a terminal)', () => {
    const out = sink(false)
    const bar = createProgressBar(out, { enabled: false, label: 'verifying', now: () => 10_000 })

    bar.update(5, 10)
    bar.finish()

    expect(out.written).toEqual([])
  })

  it('stays quiet for quick work, then draws on one line and erases itself', () => {
    const out = sink(true)
    let now = 0
    const bar = createProgressBar(out, { enabled: true, label: 'verifying', now: () => now, delayMs: 250 })

    bar.update(1, 4)
    expect(out.written).toEqual([])
    now = 300
    bar.update(2, 4)
    now = 400
    bar.update(4, 4)
    bar.finish()

    expect(out.written).toEqual([
      '\rverifying [############------------] 50% 2/4\x1b[K',
      '\rverifying [########################] 100% 4/4\x1b[K',
      '\r\x1b[2K',
    ])
  })

  it('redraws at most once per interval, but always the final state', () => {
    const out = sink(true)
    let now = 1000
    const bar = createProgressBar(out, {
      enabled: true,
      label: 'x',
      now: () => now,
      delayMs: 0,
      intervalMs: 50,
    })

    bar.update(1, 100)
    now += 10
    bar.update(2, 100)
    now += 10
    bar.update(100, 100)

    expect(out.written).toHaveLength(2)
    expect(out.written[1]).toContain('100/100')
  })
})
