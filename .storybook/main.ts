import type { StorybookConfig } from '@storybook/react-vite'

/**
 * Written by hand rather than by `storybook init`, which would pin `latest` (Node 22 only) and try to download a
 * browser that cannot be fetched here (TOOLCHAIN.md).
 */
const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  // The MDX files are docs pages (the save states guide); only the stories run as tests.
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs', '@storybook/addon-vitest'],
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  // The framework preset does not add the React plugin itself; without it there is no Fast Refresh in dev.
  async viteFinal(viteConfig) {
    const { default: react } = await import('@vitejs/plugin-react')
    return { ...viteConfig, plugins: [...(viteConfig.plugins ?? []), react()] }
  },
}

export default config
