/**
 * Headless Chromium for the web page's test and benchmark: Debian's /usr/bin/chromium (or
 * DIFFTTS_CHROMIUM) driven by puppeteer-core, which downloads no browser. `openChromium` returns the
 * reason instead where either is missing, so callers can skip with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.DIFFTTS_CHROMIUM ?? '/usr/bin/chromium';

/** The few puppeteer-core calls difftts makes (typed loosely: puppeteer-core is a devDependency). */
export interface Browser {
  newPage(): Promise<any>;
  close(): Promise<void>;
}

/** Why headless Chromium cannot be driven here (no browser, no puppeteer-core), or null. */
export async function chromiumMissing(): Promise<string | null> {
  const r = await loadPuppeteer();
  return typeof r === 'string' ? r : null;
}

async function loadPuppeteer(): Promise<{ launch(o: object): Promise<Browser> } | string> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set DIFFTTS_CHROMIUM)`;
  try {
    return ((await import('puppeteer-core')) as { default: { launch(o: object): Promise<Browser> } }).default;
  } catch (err) {
    return `puppeteer-core is not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

/**
 * A fresh headless Chromium with its own profile (removed by `close`), with the flags this sandbox
 * needs (no sandbox, no GPU process, no background network), or why there is none.
 */
export async function openChromium(): Promise<{ browser: Browser; close(): Promise<void> } | { reason: string }> {
  const puppeteer = await loadPuppeteer();
  if (typeof puppeteer === 'string') return { reason: puppeteer };
  const profile = mkdtempSync(join(tmpdir(), 'difftts-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
  let browser: Browser;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    return { reason: `${CHROMIUM} did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
