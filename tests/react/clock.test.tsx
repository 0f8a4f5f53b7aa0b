import { afterEach, describe, expect, it, vi } from 'vitest'
import { SimulatedClock } from 'xstate'
import { systemUiClock, uiClockFrom } from '../../src/react/index'

afterEach(() => {
  vi.useRealTimers()
})

describe('uiClockFrom', () => {
  it('ticks on the actor clock until stopped', () => {
    const clock = new SimulatedClock()
    const ui = uiClockFrom(clock, () => clock.now())
    let ticks = 0
    const stop = ui.every(1000, () => {
      ticks += 1
    })
    // SimulatedClock fires a timer at most once per increment, so step a second at a time.
    clock.increment(1000)
    clock.increment(1000)
    clock.increment(1000)
    clock.increment(500)
    expect(ticks).toBe(3)
    expect(ui.now()).toBe(3500)
    stop()
    clock.increment(5000)
    expect(ticks).toBe(3)
  })
})

describe('systemUiClock', () => {
  it('ticks on the host timers until stopped', () => {
    vi.useFakeTimers()
    let ticks = 0
    const stop = systemUiClock.every(1000, () => {
      ticks += 1
    })
    vi.advanceTimersByTime(2500)
    expect(ticks).toBe(2)
    stop()
    vi.advanceTimersByTime(5000)
    expect(ticks).toBe(2)
    expect(systemUiClock.now()).toBe(Date.now())
  })
})
