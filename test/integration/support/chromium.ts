import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Route } from 'playwright-core';

/** Debian's Chromium, as installed by .ci/system-packages.sh. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep Chromium headless, sandbox-free and off the internet (see reference/real-clients.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-quic',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** A headless Chromium with a throw-away profile; `close()` closes it and deletes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /** Requests that were refused because they left the loopback interface. */
  readonly blocked: string[];
  close(): Promise<void>;
}

/** True for URLs served from this machine's loopback interface. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Launches Chromium through playwright-core with a fresh user-data dir. Every non-loopback request is aborted,
 * unless `reroute(url)` returns a handler for it (e.g. to serve a CDN script from node_modules).
 */
export async function launchChromium(
  reroute: (url: string, route: Route) => Promise<boolean> | boolean = () => false,
): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'breakwater-chromium-'));
  const blocked: string[] = [];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1400, height: 900 },
      timeout: 30_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (await reroute(url, route)) return;
    if (isLoopback(url) || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return {
    context,
    blocked,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
