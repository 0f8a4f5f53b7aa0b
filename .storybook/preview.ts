import type { Preview } from '@storybook/react-vite'

/** Shared story settings. Stories build their own coordinator, so nothing global needs resetting here. */
const preview: Preview = {
  parameters: {
    layout: 'padded',
  },
}

export default preview
