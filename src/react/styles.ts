import type { CSSProperties } from 'react'
import type { SaveStatus } from '../core/status'

// Inline style objects, so consumers need no CSS build step. Every colour and size goes through a CSS variable with
// a default, so an app themes the components by setting `--saveflow-*` on any ancestor.

/** Accent colour per status: the badge's dot and border. */
export const STATUS_COLOR: Readonly<Record<SaveStatus, string>> = {
  loading: 'var(--saveflow-badge-loading, #6b7280)',
  saved: 'var(--saveflow-badge-saved, #15803d)',
  unsaved: 'var(--saveflow-badge-unsaved, #a16207)',
  saving: 'var(--saveflow-badge-saving, #1d4ed8)',
  retrying: 'var(--saveflow-badge-retrying, #c2410c)',
  failed: 'var(--saveflow-badge-failed, #b91c1c)',
  readOnly: 'var(--saveflow-badge-readonly, #6d28d9)',
}

/** The badge's box: a pill while it is one line, a rounded box when it shows a problem under the label. */
export const badgeStyle: CSSProperties = {
  display: 'inline-flex',
  flexDirection: 'column',
  // Compact even inside a flex column, which would stretch it to the full width.
  alignSelf: 'flex-start',
  gap: 'var(--saveflow-badge-gap, 4px)',
  padding: 'var(--saveflow-badge-padding, 4px 10px)',
  borderRadius: 'var(--saveflow-badge-radius, 999px)',
  border: '1px solid var(--saveflow-badge-border, #d1d5db)',
  background: 'var(--saveflow-badge-bg, #ffffff)',
  color: 'var(--saveflow-badge-fg, #111827)',
  font: 'var(--saveflow-badge-font, 500 13px/1.4 system-ui, sans-serif)',
  maxWidth: 'var(--saveflow-badge-max-width, 28rem)',
}

/** Radius of a badge that shows a problem: a pill would clip multi-line text at its ends. */
export const badgeBlockRadius = 'var(--saveflow-badge-block-radius, 10px)'

/** The first line: dot and label. */
export const badgeLineStyle: CSSProperties = { display: 'inline-flex', alignItems: 'center', gap: '6px' }

/** The coloured dot before the label. */
export function dotStyle(status: SaveStatus): CSSProperties {
  return {
    width: '8px',
    height: '8px',
    borderRadius: '50%',
    flex: 'none',
    background: STATUS_COLOR[status],
  }
}

/** The message and hint under the label. */
export const badgeProblemStyle: CSSProperties = {
  display: 'flex',
  flexDirection: 'column',
  gap: '2px',
  font: 'var(--saveflow-badge-detail-font, 400 12px/1.4 system-ui, sans-serif)',
  color: 'var(--saveflow-badge-detail-fg, #374151)',
}

/** Buttons of the badge and the dialog. */
export const buttonStyle: CSSProperties = {
  alignSelf: 'flex-start',
  padding: '2px 10px',
  borderRadius: 'var(--saveflow-button-radius, 6px)',
  border: '1px solid var(--saveflow-button-border, #9ca3af)',
  background: 'var(--saveflow-button-bg, #f9fafb)',
  color: 'var(--saveflow-button-fg, #111827)',
  font: 'inherit',
  cursor: 'pointer',
}

/** Primary button of the dialog. */
export const primaryButtonStyle: CSSProperties = {
  ...buttonStyle,
  border: '1px solid var(--saveflow-primary-bg, #1d4ed8)',
  background: 'var(--saveflow-primary-bg, #1d4ed8)',
  color: 'var(--saveflow-primary-fg, #ffffff)',
}

/** Hides text from sight but not from screen readers (the live region). */
export const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: '1px',
  height: '1px',
  padding: 0,
  margin: '-1px',
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
}

/** The recovery dialog's box. */
export const dialogStyle: CSSProperties = {
  width: 'min(36rem, calc(100vw - 2rem))',
  padding: '20px 24px',
  borderRadius: 'var(--saveflow-dialog-radius, 12px)',
  border: '1px solid var(--saveflow-dialog-border, #d1d5db)',
  background: 'var(--saveflow-dialog-bg, #ffffff)',
  color: 'var(--saveflow-dialog-fg, #111827)',
  font: 'var(--saveflow-dialog-font, 400 14px/1.5 system-ui, sans-serif)',
  boxShadow: '0 20px 50px rgb(0 0 0 / 0.25)',
}
