import type { Meta, StoryObj } from '@storybook/react-vite'
import type { CSSProperties } from 'react'
import { expect, within } from 'storybook/test'
import { FailuresTable, StatesTable } from './support/save-states-guide'

/**
 * The tables of the save states docs page (`SaveStates.mdx`, the "Docs" entry beside this story), as a story whose
 * play function checks them: the docs page itself is not run as a test.
 */
function SaveStatesGuide() {
  return (
    <article style={pageStyle}>
      <h1>Save states</h1>
      <StatesTable />
      <h2>Failures and how they are retried</h2>
      <FailuresTable />
    </article>
  )
}

const pageStyle: CSSProperties = {
  font: '15px/1.6 system-ui, sans-serif',
  color: '#111827',
  maxWidth: '60rem',
}

const meta = {
  title: 'saveflow/Save states',
  component: SaveStatesGuide,
  parameters: { layout: 'padded' },
} satisfies Meta<typeof SaveStatesGuide>

export default meta
type Story = StoryObj<typeof meta>

/** The guide's tables. */
export const Guide: Story = {
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement)
    const states = canvas.getByRole('table', { name: 'Save states' })
    const rows = within(states).getAllByRole('row').slice(1)
    await expect(rows.map((row) => within(row).getByRole('rowheader').textContent)).toEqual([
      'loading',
      'saved',
      'unsaved',
      'saving',
      'retrying',
      'failed',
      'readOnly',
    ])
    await expect(within(states).getByText('Saved 5 s ago')).toBeVisible()
    await expect(within(states).getByText('Retrying in 3 s, attempt 2 of 5')).toBeVisible()
    await expect(within(states).getByText('Read-only: opened by process 4312 on studio-mac')).toBeVisible()
    const failures = canvas.getByRole('table', { name: 'Failures' })
    await expect(within(failures).getByText('Free some space; saving resumes by itself.')).toBeVisible()
  },
}
