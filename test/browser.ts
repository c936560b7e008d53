/**
 * Headless Chromium for the tests that drive the Temporal Web UI (test/integration/ui.test.ts),
 * through playwright-core and the browser scripts/provision.sh installs (`--only chromium`).
 */
import { AssertionError } from 'node:assert';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A browser with a fresh profile, and one page in it. */
export interface HeadlessBrowser {
  page: Page;
  context: BrowserContext;
  /** A folder of the test's own (given `scratch`), removed by `close`. */
  scratch: string;
  /** Closes the browser and removes its profile and scratch folder; safe to call twice. */
  close(): Promise<void>;
}

/** How a test wants its browser: the page's size, and a scratch folder named after the test. */
export interface BrowserOptions {
  viewport?: { width: number; height: number };
  /** The prefix of a temporary folder made for the test (its files, the dashboard's catalog). */
  scratch?: string;
}

/**
 * Launches Chromium headless with a profile of its own in a temporary folder. Rejects with a
 * message naming the browser and how to install it when it is missing or cannot run: a test that
 * needs the browser fails, it is never skipped.
 */
export async function launchHeadlessChromium(opts: BrowserOptions = {}): Promise<HeadlessBrowser> {
  await access(CHROMIUM_PATH, constants.X_OK).catch(() => {
    throw new Error(`no browser at ${CHROMIUM_PATH}: run 'bash scripts/provision.sh --only chromium' (apt-get install chromium)`);
  });
  const profile = await mkdtemp(path.join(os.tmpdir(), 'gameday-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: FLAGS }).catch(async (e: Error) => {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${e.message}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const scratch = opts.scratch ? await mkdtemp(path.join(os.tmpdir(), opts.scratch)) : '';
  let closed: Promise<void> | undefined;
  const browser: HeadlessBrowser = {
    page,
    context,
    scratch,
    close() {
      closed ??= context.close().finally(() => Promise.all([profile, ...(scratch ? [scratch] : [])].map((dir) => rm(dir, { recursive: true, force: true }))).then(() => undefined));
      return closed;
    },
  };
  if (opts.viewport) await page.setViewportSize(opts.viewport).catch(async (e: Error) => {
    await browser.close();
    throw e;
  });
  return browser;
}

/**
 * Runs `fn`; when it throws, saves a screenshot of the page in a temporary folder and rethrows
 * an assertion error with the original message and the screenshot's path (the original as its
 * `cause`).
 */
export async function screenshotOnFailure<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-ui-failure-')), `${name}.png`);
    const saved = await page.screenshot({ path: file, fullPage: true }).then(
      () => `screenshot: ${file}`,
      (s: Error) => `no screenshot (${s.message})`,
    );
    // A new error: the test runner prints the stack, which holds the message it was created with.
    const { actual, expected, operator } = err as Partial<AssertionError>;
    const failure = new AssertionError({ message: `${err.message}\n${saved}`, actual, expected, operator });
    failure.cause = err;
    throw failure;
  }
}
