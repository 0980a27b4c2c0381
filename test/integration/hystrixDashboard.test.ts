import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, hystrixStreamHandler, type HystrixStreamHandler } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { startLocalServer, type LocalServer } from './support/http.js';
import { hystrixDashboardWebapp, originalDashboardListener, underscoreReroute } from './support/hystrixDashboard.js';

const SCREENSHOT = '/tmp/hystrix-dashboard.png';
// Time budget (whole file ≤ 60 s): beforeAll 30 s, tests 10 + 8 + 5 s, afterAll 7 s.
/** Long enough that nothing rolls out of the window while the page loads. */
const METRICS = { rollingWindow: 30_000, rollingBuckets: 10 };

let server: LocalServer | undefined;
let stream: HystrixStreamHandler | undefined;
let browser: TestBrowser | undefined;
let page: Page;
const consoleLines: string[] = [];
const pageErrors: string[] = [];

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function driveCommands(): Promise<void> {
  const success = command({ key: 'Dash.Success', group: 'Dash', metrics: METRICS, run: async () => 'ok' });
  for (let i = 0; i < 7; i++) await success.execute();

  const flaky = command({
    key: 'Dash.Failure',
    group: 'Dash',
    metrics: METRICS,
    run: async (fail: boolean) => {
      if (fail) throw new Error('dependency down');
      return 'ok';
    },
    fallback: () => 'fallback',
  });
  for (let i = 0; i < 4; i++) {
    await flaky.execute(false);
    await flaky.execute(true);
  }

  const slow = command({
    key: 'Dash.Timeout',
    group: 'Dash',
    timeout: 30,
    metrics: METRICS,
    run: (_x: number, { signal }) =>
      new Promise<string>((resolve) => {
        const t = setTimeout(() => resolve('late'), 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve('aborted');
        });
      }),
    fallback: () => 'fallback',
  });
  await Promise.all([slow.execute(1), slow.execute(2)]);

  const broken = command({
    key: 'Dash.Open',
    group: 'Dash',
    metrics: { ...METRICS, healthSnapshotInterval: 100 },
    circuitBreaker: { requestVolumeThreshold: 3, sleepWindow: 60_000 },
    run: async () => {
      throw new Error('always down');
    },
    fallback: () => 'fallback',
  });
  for (let i = 0; i < 4; i++) await broken.execute();
  for (let i = 0; i < 50 && circuitBreakerFor('Dash.Open').state !== 'OPEN'; i++) await wait(20);
  expect(circuitBreakerFor('Dash.Open').state).toBe('OPEN');
  await broken.execute(); // short-circuited
  await broken.execute();

  const pooled = command({
    key: 'Dash.Pooled',
    group: 'Dash',
    isolation: 'pool',
    pool: { key: 'DashPool', coreSize: 2 },
    metrics: METRICS,
    run: async (ms: number) => {
      await wait(ms);
      return 'ok';
    },
    fallback: () => 'fallback',
  });
  await Promise.all([pooled.execute(40), pooled.execute(40), pooled.execute(40), pooled.execute(40)]); // 2 run, 2 rejected
  for (let i = 0; i < 4; i++) await pooled.execute(1);
}

beforeAll(async () => {
  resetBreakwater();
  const webapp = await hystrixDashboardWebapp();
  stream = hystrixStreamHandler({ intervalMs: 500 });
  server = await startLocalServer(originalDashboardListener(webapp, { '/hystrix.stream': stream }));
  await driveCommands();

  browser = await launchChromium(await underscoreReroute());
  page = await browser.context.newPage();
  page.on('console', (msg) => consoleLines.push(msg.text()));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const streamUrl = `${server.url}/hystrix.stream`;
  await page.goto(`${server.url}/monitor/monitor.html?stream=${encodeURIComponent(streamUrl)}&title=breakwater`, {
    waitUntil: 'load',
    timeout: 15_000,
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  stream?.close();
  await server?.close();
  resetBreakwater();
}, 7_000);

interface Tile {
  name: string;
  text: string;
  counters: Record<string, string>;
  cells: Record<string, string>;
}

/** Reads a tile (`CIRCUIT_<name>_0` or `THREAD_POOL_<name>_0`) as the page shows it. */
function readTile(id: string): Promise<Tile | null> {
  // Runs in the page; typed loosely because this project compiles without the DOM lib.
  return page.evaluate((tileId) => {
    const tile = (globalThis as any).document.getElementById(tileId);
    if (tile === null) return null;
    const text = (el: any): string => String(el?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const counters: Record<string, string> = {};
    for (const cls of ['success', 'shortCircuited', 'badRequest', 'timeout', 'rejected', 'failure']) {
      counters[cls] = text(tile.querySelector(`.counters a.${cls}`));
    }
    counters.errorPercentage = text(tile.querySelector('.errorPercentage .value'));
    counters.circuit = text(tile.querySelector('.circuitStatus'));
    counters.rejectedTitle = tile.querySelector('.counters a.rejected')?.getAttribute('title') ?? '';
    const cells: Record<string, string> = {};
    const all: any[] = [...tile.querySelectorAll('.tableRow .cell')];
    for (let i = 0; i + 1 < all.length; i += 2) cells[text(all[i]!)] = text(all[i + 1]!);
    return { name: text(tile.querySelector('p.name')), text: text(tile), counters, cells };
  }, id);
}

/** Waits until the tile shows every expected counter and cell (the page redraws on each sample). */
async function tileShowing(id: string, expected: { counters?: Record<string, string>; cells?: Record<string, string> }): Promise<Tile> {
  const matches = (t: Tile): boolean =>
    Object.entries(expected.counters ?? {}).every(([k, v]) => t.counters[k] === v) &&
    Object.entries(expected.cells ?? {}).every(([k, v]) => t.cells[k] === v);
  let last: Tile | null = null;
  const deadline = Date.now() + 6000;
  while (Date.now() < deadline) {
    last = await readTile(id);
    if (last !== null && matches(last)) return last;
    await wait(100);
  }
  throw new Error(`tile ${id} never showed ${JSON.stringify(expected)}; last seen: ${JSON.stringify(last)}\nconsole: ${consoleLines.join('\n')}`);
}

describe('the original Hystrix Dashboard (hystrix-dashboard 1.0.4 web files) in Chromium', () => {
  it('renders a tile for every command with the right counts and circuit status', async () => {
    const success = await tileShowing('CIRCUIT_Dash.Success_0', {
      counters: { success: '7', failure: '0', timeout: '0', shortCircuited: '0', rejected: '0', errorPercentage: '0.0', circuit: 'Circuit Closed' },
    });
    expect(success.name).toBe('Dash.Success');
    // SEMAPHORE isolation: the tile shows the semaphore rejected counter
    expect(success.counters.rejectedTitle).toBe('Semaphore Rejected Request Count');

    await tileShowing('CIRCUIT_Dash.Failure_0', {
      counters: { success: '4', failure: '4', errorPercentage: '50.0', circuit: 'Circuit Closed' },
    });

    const timeout = await tileShowing('CIRCUIT_Dash.Timeout_0', {
      counters: { success: '0', timeout: '2', errorPercentage: '100.0', circuit: 'Circuit Closed' },
    });
    // latency cells are filled with whole milliseconds; a 30 ms timeout takes at least ~30 ms
    expect(timeout.cells['90th']).toMatch(/^\d+ms$/);
    expect(Number.parseInt(timeout.cells['99th']!, 10)).toBeGreaterThanOrEqual(25);

    await tileShowing('CIRCUIT_Dash.Open_0', {
      counters: { failure: '4', shortCircuited: '2', errorPercentage: '100.0', circuit: 'Circuit Open' },
    });

    const pooled = await tileShowing('CIRCUIT_Dash.Pooled_0', {
      counters: { success: '6', rejected: '2', errorPercentage: '25.0', circuit: 'Circuit Closed' },
    });
    // THREAD isolation: the tile shows the thread-pool rejected counter
    expect(pooled.counters.rejectedTitle).toBe('Threadpool Rejected Request Count');
  }, 10_000);

  it('renders the pool tile with its executions and sizes', async () => {
    const pool = await tileShowing('THREAD_POOL_DashPool_0', {
      cells: { Active: '0', Queued: '0', 'Max Active': '2', Executions: '6', 'Pool Size': '2', 'Queue Size': '5' },
    });
    expect(pool.name).toBe('DashPool');
  }, 8_000);

  it('logs no "Key Missing" (every field present) and requests nothing off the machine but the rerouted CDN script', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(consoleLines.filter((l) => l.includes('Key Missing'))).toEqual([]);
    expect(consoleLines.filter((l) => l.includes('Failed preProcessData'))).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(browser!.blocked).toEqual([]);
    const tiles = await page.$$eval('div.monitor', (els) => els.map((e) => e.id).sort());
    expect(tiles).toEqual([
      'CIRCUIT_Dash.Failure_0',
      'CIRCUIT_Dash.Open_0',
      'CIRCUIT_Dash.Pooled_0',
      'CIRCUIT_Dash.Success_0',
      'CIRCUIT_Dash.Timeout_0',
      'THREAD_POOL_DashPool_0',
    ]);
  }, 5_000);
});
