/** The shape of `bench/results/latest.json`, and helpers that build it from samples. */
import { pairedRatio, type Summary, summarize } from './stats'

/** One measured figure of one library in one case. */
export interface Figure {
  /** `saveflow`, `raw`, `raw-files`, `conf`, `lowdb`, `zustand`. */
  who: string
  /** What was measured: `time`, `bytes`, `overhead`, `block`, `writes`, `heap`. */
  metric: string
  unit: 'ms' | 'B' | 'count'
  median: number
  min: number
  max: number
  p99: number
  samples: number
  /**
   * This figure over the reference's (`ratioTo`), as the median of per-round ratios of the interleaved runs;
   * null for the reference itself and for figures not run in pairs.
   */
  ratio: number | null
  ratioTo: string | null
}

/** One target of a case, checked. */
export interface Check {
  label: string
  met: boolean
  /** The measured value the check used. */
  value: string
}

/** One case's results. */
export interface CaseResult {
  id: string
  title: string
  target: string
  workload: string
  figures: Figure[]
  checks: Check[]
  /** Every check met. */
  met: boolean
  /** For the README table: saveflow's figure, the others', the ratio. */
  saveflowText: string
  othersText: string
  ratioText: string
  /** What limits a missed target (null when met). */
  limitedBy: string | null
  notes: string[]
}

/** A figure from samples, with its ratio to a reference series of the same rounds. */
export function figure(
  who: string,
  metric: string,
  unit: Figure['unit'],
  samples: readonly number[],
  reference?: { who: string; samples: readonly number[] },
): Figure {
  const s: Summary = summarize(samples)
  const ratio =
    reference === undefined || reference.who === who ? null : pairedRatio(samples, reference.samples).median
  return {
    who,
    metric,
    unit,
    median: s.median,
    min: s.min,
    max: s.max,
    p99: s.p99,
    samples: s.samples,
    ratio,
    ratioTo: reference === undefined || reference.who === who ? null : reference.who,
  }
}

/** Finds a figure; throws if a case did not produce it (a harness bug). */
export function pick(figures: readonly Figure[], who: string, metric: string): Figure {
  const found = figures.find((f) => f.who === who && f.metric === metric)
  if (found === undefined) throw new Error(`no figure ${who}/${metric}`)
  return found
}

/** Formats a value of a unit for tables: 3 significant digits, bytes as B/KB/MB. */
export function show(value: number, unit: Figure['unit']): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (unit === 'B') {
    const abs = Math.abs(value)
    if (abs >= 1024 * 1024) return `${(value / (1024 * 1024)).toFixed(abs >= 100 * 1024 * 1024 ? 0 : 1)} MB`
    if (abs >= 1024) return `${(value / 1024).toFixed(abs >= 100 * 1024 ? 0 : 1)} KB`
    return `${Math.round(value)} B`
  }
  if (unit === 'count') return String(Math.round(value))
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return `${value.toFixed(digits)} ms`
}

/** `1.23x`, or `n/a`. */
export const showRatio = (ratio: number | null): string =>
  ratio === null || !Number.isFinite(ratio) ? 'n/a' : `${ratio >= 100 ? ratio.toFixed(0) : ratio.toFixed(2)}x`

/** Builds a case result, deriving `met` from the checks. */
export function caseResult(result: Omit<CaseResult, 'met'>): CaseResult {
  return { ...result, met: result.checks.length > 0 && result.checks.every((c) => c.met) }
}
