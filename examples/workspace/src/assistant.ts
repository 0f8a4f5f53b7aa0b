/**
 * The demo's "assistant": canned answers, picked by how far the conversation got, so that a chat grows the way a
 * real one does (a user message, then an answer) without any network. Saving is what the demo is about.
 */

const OPENERS = [
  'Good question about "{feature}".',
  'Noted for "{feature}".',
  'Thinking about "{feature}":',
  'For "{feature}", here is a thought.',
]

const ADVICE = [
  'Start with the smallest version a user could try, then list what it leaves out.',
  'Write down what "done" means for it: one sentence a tester could check.',
  'Consider what happens when the disk is full halfway through; this app keeps your edits in memory and retries.',
  'Split it in two if the description needs more than three sentences.',
  'Who asked for it? Add their words to the description, so the reason survives.',
  'Check how it behaves offline and after a crash: that is where data gets lost.',
]

/** The assistant's answer to the `count`-th user message about `feature`. */
export function cannedAnswer(feature: string, userMessage: string, count: number): string {
  const opener = OPENERS[count % OPENERS.length]!.replace('{feature}', feature.trim() || 'this feature')
  const advice = ADVICE[(count * 5 + userMessage.length) % ADVICE.length]!
  return `${opener} ${advice}`
}

/** How long the assistant "types" before answering, in ms. */
export const ANSWER_DELAY_MS = 600
