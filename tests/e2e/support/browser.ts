import { type Browser, chromium, type Page } from 'playwright-core'

/**
 * One headless Chromium for the whole suite (Debian's: the only browser these machines can run, TOOLCHAIN.md); each
 * test gets its own context, so no cookie, storage or page leaks from one test into the next.
 */

/** Launches Debian's Chromium headless, with the flags that keep it off the network and off the GPU. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Records every value the header badge's `data-status` takes, including ones that last a single frame (`saving`):
 * a MutationObserver's records keep each old value. A string, not a function: under tsx a function handed to the
 * page can carry helpers the page does not have (`__name is not defined`, TOOLCHAIN.md).
 */
const BADGE_RECORDER = `(() => {
  window.__badgeHistory = [];
  const push = (value) => {
    const history = window.__badgeHistory;
    if (value !== null && history[history.length - 1] !== value) history.push(value);
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'attributes' && record.target.classList.contains('app-badge')) push(record.oldValue);
    }
    push(document.querySelector('.app-badge')?.getAttribute('data-status') ?? null);
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-status'] });
})()`

/** A new page in a new context, with the badge recorder installed and every dialog (beforeunload) accepted. */
export async function openPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  await context.addInitScript(BADGE_RECORDER)
  const page = await context.newPage()
  page.on('dialog', (dialog) => void dialog.accept())
  return page
}

/** The badge values recorded since the page loaded (or since {@link clearBadgeHistory}). */
export function badgeHistory(page: Page): Promise<string[]> {
  return page.evaluate('window.__badgeHistory.slice()') as Promise<string[]>
}

/** Starts a fresh badge record. */
export async function clearBadgeHistory(page: Page): Promise<void> {
  await page.evaluate('window.__badgeHistory.length = 0')
}
