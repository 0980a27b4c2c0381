import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { command, startDashboard, type Dashboard } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../integration/support/chromium.js';

const SCREENSHOT = '/tmp/breakwater-dashboard.png';

let context: BrowserContext | undefined;
let userDataDir = '';
const dashboards: Dashboard[] = [];
const servers: Server[] = [];
const pages: Page[] = [];
const problems: string[] = [];

beforeAll(async () => {
  resetBreakwater();
  userDataDir = mkdtempSync(join(tmpdir(), 'breakwater-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1360, height: 900 },
    colorScheme: 'light',
    timeout: 30_000,
  });
  // Only loopback: a test never waits on (or talks to) the network.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return url.hostname === '127.0.0.1' || url.protocol === 'data:' ? route.continue() : route.abort();
  });
}, 60_000);

afterEach(async () => {
  // A page left open by a failed test would keep retrying its closed streams and log into the next test's problems.
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all(dashboards.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
  resetBreakwater();
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  resetBreakwater();
});

async function newPage(url: string): Promise<Page> {
  const page = await context!.newPage();
  pages.push(page);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    // EventSource connections cut by the page closing are not problems.
    if (!r.url().includes('stream') && !r.url().includes('/proxy/')) problems.push(`request failed: ${r.url()}`);
  });
  await page.goto(url);
  return page;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function localTraffic(): Promise<void> {
  // adaptive isolation and a 'consecutive' breaker (issue 17): their notes must reach the cards
  const orders = command({ key: 'Orders.Create', group: 'Orders', isolation: 'adaptive', run: async (ms: number) => { await sleep(ms); return 'ok'; } });
  const payments = command({
    key: 'Payments.Charge',
    group: 'Payments',
    circuitBreaker: { forceOpen: true },
    run: async () => 'charged',
    fallback: () => 'queued',
  });
  const search = command({
    key: 'Search.Query',
    group: 'Search',
    circuitBreaker: { strategy: 'consecutive', consecutiveFailures: 50 },
    run: async (fail: boolean) => {
      await sleep(3);
      if (fail) throw new Error('index unavailable');
      return 'hits';
    },
    fallback: () => 'cached',
  });
  const reports = command({ key: 'Reports.Build', group: 'Reports', isolation: 'pool', pool: 'ReportsPool', run: async () => { await sleep(8); return 'pdf'; } });
  // At most 5 at once per command: well inside the default bulkheads of 10.
  for (let batch = 0; batch < 4; batch++) {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) work.push(orders.execute(2 + ((batch * 5 + i) % 7) * 3));
    if (batch < 2) for (let i = 0; i < 5; i++) work.push(search.execute(batch * 5 + i < 4));
    await Promise.all(work);
  }
  await Promise.all([0, 1, 2, 3, 4, 5].map(() => payments.execute()));
  await Promise.all([0, 1, 2].map(() => reports.execute()));
}

async function cardNames(page: Page): Promise<string[]> {
  return page.locator('article.card h3.name').allTextContents();
}

function card(page: Page, name: string) {
  return page.locator('article.card', { has: page.locator('h3.name', { hasText: name }) });
}

describe('the dashboard page in Chromium', () => {
  it('renders one card per circuit with its state word, rate, errors, counts and latency, plus the pool table', async () => {
    problems.length = 0;
    await localTraffic();
    const d = await startDashboard({ port: 0, intervalMs: 200 });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(4);
    await expect.poll(() => page.locator('#pool-rows tr').count(), { timeout: 10_000 }).toBe(1);

    expect((await cardNames(page)).sort()).toEqual(['Orders.Create', 'Payments.Charge', 'Reports.Build', 'Search.Query']);
    const payments = card(page, 'Payments.Charge');
    await expect.poll(() => payments.locator('.state-word').textContent()).toBe('Open');
    expect(await payments.locator('.state').getAttribute('aria-label')).toBe('Circuit Open');
    expect(await payments.locator('.c-short dd').textContent()).toBe('6');
    expect(await payments.locator('.c-fallback dd').textContent()).toBe('6');
    expect(await payments.locator('.notes').textContent()).toContain('forced open');

    const orders = card(page, 'Orders.Create');
    expect(await orders.locator('.state-word').textContent()).toBe('Closed');
    expect(await orders.locator('.group').textContent()).toBe('Group Orders');
    expect(await orders.locator('.c-success dd').textContent()).toBe('20');
    expect(await orders.locator('.kpi-value').first().textContent()).toBe('2.0'); // 20 requests / 10 s window
    expect(Number(await orders.locator('.latency dd .n').nth(1).textContent())).toBeGreaterThan(0); // 90th percentile
    expect(await orders.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await orders.locator('.notes').textContent()).toMatch(/adaptive limit 20 \(vegas\), 0 in flight/); // at most 5 at once: no growth

    const search = card(page, 'Search.Query');
    expect(await search.locator('.kpi-value').nth(1).textContent()).toBe('40%');
    expect(await search.locator('.c-failure dd').textContent()).toBe('4');
    expect(await search.locator('.c-success dd').textContent()).toBe('6');
    expect(await search.locator('.notes').textContent()).toContain('breaker opens after 50 failures in a row');

    const row = page.locator('#pool-rows tr').first();
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('ReportsPool');
    expect(cells.slice(1)).toEqual(['0', '0', '3', '3', '0', '10']); // active, queued, max active, executed, rejected, size
    expect(await page.locator('.conn').getAttribute('data-status')).toBe('live');

    // Let the sparklines collect a few samples before the picture.
    await page.waitForTimeout(1500);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it('sorts the cards by error %, volume and name', async () => {
    problems.length = 0;
    await localTraffic();
    const d = await startDashboard({ port: 0, intervalMs: 200 });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(4);

    expect(await page.getByRole('button', { name: 'Error %' }).getAttribute('aria-pressed')).toBe('true');
    expect((await cardNames(page))[0]).toBe('Search.Query');

    await page.getByRole('button', { name: 'Name' }).click();
    expect(await cardNames(page)).toEqual(['Orders.Create', 'Payments.Charge', 'Reports.Build', 'Search.Query']);
    expect(await page.getByRole('button', { name: 'Name' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByRole('button', { name: 'Error %' }).getAttribute('aria-pressed')).toBe('false');

    await page.getByRole('button', { name: 'Volume' }).click();
    // By requests in the window, most first. (Read from the cards: on a loaded machine the traffic can take long
    // enough for the earliest calls to leave the 10 s window, so the exact order is not fixed.)
    const rates = (await page.locator('article.card .kpi:first-child .kpi-value').allTextContents()).map(Number);
    expect(rates).toEqual([...rates].sort((x, y) => y - x));
    expect((await cardNames(page)).at(-1)).toBe('Payments.Charge'); // short-circuited calls are not requests

    await page.getByRole('button', { name: 'Error %' }).click();
    expect((await cardNames(page))[0]).toBe('Search.Query');

    await page.getByLabel('Filter by name or group').fill('pay');
    await expect.poll(() => cardNames(page)).toEqual(['Payments.Charge']);
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it('reads Half-open from circuitState and Open from isCircuitBreakerOpen alone, through the relay of another stream', async () => {
    problems.length = 0;
    // A Hystrix-style upstream: one breakwater object with circuitState, one Java-Hystrix object without it.
    const frames = [
      { ...hystrixCommand('Inventory.Check', 'Inventory', true), circuitState: 'HALF_OPEN' },
      hystrixCommand('Legacy.Lookup', 'Legacy', true),
      hystrixCommand('Legacy.Healthy', 'Legacy', false),
    ];
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8' });
      const send = (): void => {
        for (const f of frames) res.write(`data: ${JSON.stringify(f)}\n\n`);
      };
      send();
      const timer = setInterval(send, 200);
      res.on('close', () => clearInterval(timer));
    });
    servers.push(upstream);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    const d = await startDashboard({ port: 0, streams: [`http://127.0.0.1:${port}/hystrix.stream`] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(3);
    expect(await card(page, 'Inventory.Check').locator('.state-word').textContent()).toBe('Half-open');
    expect(await card(page, 'Legacy.Lookup').locator('.state-word').textContent()).toBe('Open');
    expect(await card(page, 'Legacy.Healthy').locator('.state-word').textContent()).toBe('Closed');
    expect(await page.locator('.conn').textContent()).toBe(`127.0.0.1:${port}/hystrix.stream`);
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it('says which upstream is unreachable, why, and when it retries; then recovers by itself', async () => {
    problems.length = 0;
    const live = await sseServer(() => [hystrixCommand('Live.Command', 'Live', false)]);
    const deadPort = await freePort();
    const d = await startDashboard({ port: 0, streams: [live.url, `http://127.0.0.1:${deadPort}/hystrix.stream`] });
    dashboards.push(d);
    const page = await newPage(d.url);
    const problem = page.locator('#problems li');
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(1);
    const text = await problem.textContent();
    expect(text).toContain(`127.0.0.1:${deadPort}/hystrix.stream`);
    expect(text).toContain('unreachable: 502 upstream stream 1 is unreachable (ECONNREFUSED)');
    expect(text).toMatch(/retrying (in \d+ s|now) \(attempt \d+\)/);
    expect(await page.locator('.conn').nth(0).getAttribute('data-status')).toBe('live');
    expect(await page.locator('.conn').nth(1).getAttribute('data-status')).toBe('down');
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(1);

    // The upstream comes up on that port: the page reconnects on its own (backoff at most 10 s) and the problem goes.
    await sseServer(() => [hystrixCommand('Late.Command', 'Late', true)], deadPort);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => problem.count(), { timeout: 5_000 }).toBe(0);
    expect(await page.locator('#problems').isHidden()).toBe(true);
    expect(await page.locator('.conn').nth(1).getAttribute('data-status')).toBe('live');
    // Chromium logs each refused relay as a failed resource load: that is the condition under test, not a problem.
    expect(problems.filter((p) => !p.includes('status of 502'))).toEqual([]);
    await page.close();
  }, 40_000);

  it('with only an unreachable stream, says so instead of "Waiting for data" and shows no update time', async () => {
    problems.length = 0;
    const deadPort = await freePort();
    const d = await startDashboard({ port: 0, streams: [`http://127.0.0.1:${deadPort}/hystrix.stream`] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('#circuits-empty').textContent(), { timeout: 10_000 }).toBe(
      'No data: the stream is unreachable (see above).',
    );
    expect(await page.locator('#problems li').textContent()).toContain('(ECONNREFUSED)');
    expect(await page.locator('footer').textContent()).toContain('No data yet');
    expect(await page.locator('footer').textContent()).not.toContain('Updated');
    expect(problems.filter((p) => !p.includes('status of 502'))).toEqual([]);
    await page.close();
  }, 40_000);

  it('lets a long command name be read: it wraps, carries a tooltip, and the details show it whole', async () => {
    problems.length = 0;
    const long = `Orders.${'VeryLongSegment.'.repeat(8)}CreateWithInventoryReservationAndPaymentAuthorisation`;
    const upstream = await sseServer(() => [hystrixCommand(long, 'Orders', false)]);
    const d = await startDashboard({ port: 0, streams: [upstream.url] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(1);
    const name = page.locator('article.card h3.name');
    expect(await name.getAttribute('title')).toBe(long);
    const box = await name.evaluate((e) => ({
      // (globalThis: the tests compile without DOM types; this runs in the page.)
      lines: Math.round(e.clientHeight / parseFloat((globalThis as any).getComputedStyle(e).lineHeight)),
      width: e.scrollWidth - e.clientWidth,
    }));
    expect(box.lines).toBe(2); // wraps to two lines rather than one cut line
    expect(box.width).toBe(0); // nothing runs out sideways
    await page.getByRole('button', { name: `Details of ${long}` }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('h2').textContent()).toBe(long);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it('keeps up with 1,000 busy keys: few DOM nodes, main thread under 20 % busy, the filter answering within 100 ms', async () => {
    problems.length = 0;
    const keys = 1000;
    let tick = 0;
    // A synthetic stream on a real loopback server, as a process with 1,000 busy keys sends it (every 500 ms).
    const upstream = await sseServer(() => {
      const t = tick++;
      return Array.from({ length: keys }, (_, i) => busyCommand(i, t));
    }, 0, 500);
    const d = await startDashboard({ port: 0, streams: [upstream.url] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('#circuits-summary').textContent(), { timeout: 20_000 }).toMatch(/^1000 circuits/);
    await page.waitForTimeout(1000);

    // The browser's own accounting: main-thread task time over wall time, and the live DOM node count.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    type Measurement = { busy: number; nodes: number; drawn: number; latencies: number[] };
    /** The main thread's share of 5 s, then the latency of each keystroke of "command77" typed into the filter. */
    const measure = async (): Promise<Measurement> => {
      const before = await metrics();
      await page.waitForTimeout(5000);
      const after = await metrics();
      const busy = (after.TaskDuration! - before.TaskDuration!) / (after.Timestamp! - before.Timestamp!);
      const drawn = await page.locator('article.card').count();
      // From each keystroke (the event's own time stamp, so waiting behind a busy main thread counts) to the frame
      // after the filtered cards are in the DOM.
      await page.locator('#filter').focus();
      const latencies: number[] = [];
      for (const ch of 'command77') {
        await page.evaluate(
          `window.__filtered = new Promise((resolve) => addEventListener('keydown', (e) => {
            const t0 = e.timeStamp;
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
          }, { once: true, capture: true })); undefined`, // (not the promise: it settles after the key press below)
        );
        await page.keyboard.press(ch);
        latencies.push((await page.evaluate('window.__filtered')) as number);
      }
      return { busy, nodes: after.Nodes!, drawn, latencies };
    };
    const summary = (m: Measurement): string =>
      `main thread ${(m.busy * 100).toFixed(1)} % busy, ${m.nodes} DOM nodes, ${m.drawn} cards drawn, ` +
      `filter ${m.latencies.map((l) => Math.round(l)).join('/')} ms per keystroke`;
    // Every keystroke within 100 ms but one, which may meet an unrelated stall (and even that one within 250 ms). The
    // old page, re-rendering every card, took 0.1 to 6 s per keystroke here.
    const inBounds = (m: Measurement): boolean => {
      const sorted = [...m.latencies].sort((x, y) => x - y);
      return m.busy < 0.2 && sorted.at(-2)! < 100 && sorted.at(-1)! < 250;
    };
    let measured = await measure();
    if (!inBounds(measured)) {
      // A machine running other work beside the suite can stall Chromium for a few hundred ms at a time (seen with
      // one busy-loop process per core: 241/348/371/157 ms on the first four keystrokes, then 9 to 50 ms). A stall
      // does not come back on demand, a slow page is slow every time: measure once more, from an empty filter, and
      // hold that measurement to the same bounds.
      console.log(`dashboard page, ${keys} busy keys, first measurement out of bounds: ${summary(measured)}`);
      await page.locator('#filter').fill('');
      await expect.poll(async () => (await cardNames(page)).some((n) => !n.toLowerCase().includes('command77')), { timeout: 5000 }).toBe(true);
      measured = await measure();
    }
    const filtered = (await cardNames(page)).sort();
    const expected = Array.from({ length: keys }, (_, i) => `Service${i % 40}.Command${i}`).filter((n) => n.toLowerCase().includes('command77'));
    expect(filtered).toEqual(expected.sort());
    console.log(`dashboard page, ${keys} busy keys: ${summary(measured)}`);
    expect(measured.drawn).toBeLessThanOrEqual(40);
    expect(measured.nodes).toBeLessThan(10_000);
    expect(measured.busy).toBeLessThan(0.2);
    const sorted = [...measured.latencies].sort((x, y) => x - y);
    expect(sorted.at(-2)).toBeLessThan(100);
    expect(sorted.at(-1)).toBeLessThan(250);

    // Windowing shows the right cards wherever the page is scrolled: the last ones by name at the bottom.
    await page.locator('#filter').fill('');
    await page.getByRole('button', { name: 'Name' }).click();
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    const byName = Array.from({ length: keys }, (_, i) => `Service${i % 40}.Command${i}`).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    await expect.poll(async () => (await cardNames(page)).at(-1), { timeout: 5000 }).toBe(byName.at(-1));
    const bottom = await cardNames(page);
    expect(bottom).toEqual(byName.slice(keys - bottom.length));
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a Turbine stream as a fleet: hosts, "Open on 2 of 5 hosts", averages divided by reportingHosts', async () => {
    problems.length = 0;
    // Turbine's sums over 5 hosts: errorPercentage and latency are written so that dividing by reportingHosts
    // gives the fleet's figure; isCircuitBreakerOpen is an object when the hosts disagree.
    const mixed = {
      ...hystrixCommand('Orders.Create', 'Orders', false), reportingHosts: 5, isCircuitBreakerOpen: { true: 2, false: 3 },
      errorPercentage: 150, requestCount: 500, errorCount: 150, rollingCountFailure: 150, rollingCountSuccess: 350,
      latencyExecute: { '0': 5, '25': 20, '50': 40, '75': 60, '90': 100, '95': 150, '99': 225, '99.5': 250, '100': 305 },
      latencyExecute_mean: 45,
    };
    const allOpen = { ...hystrixCommand('Payments.Charge', 'Payments', true), reportingHosts: 3, errorPercentage: 240 };
    const allClosed = { ...hystrixCommand('Users.Get', 'Users', false), reportingHosts: 3 };
    const upstream = await sseServer(() => [mixed, allOpen, allClosed]);
    const d = await startDashboard({ port: 0, streams: [upstream.url] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(3);

    const orders = card(page, 'Orders.Create');
    expect(await orders.locator('.state').textContent()).toBe('Open on 2 of 5 hosts');
    expect(await orders.locator('.state').getAttribute('aria-label')).toBe('Circuit Open on 2 of 5 hosts');
    expect(await orders.locator('.group').textContent()).toBe('Group Orders \u00b7 5 hosts');
    expect(await orders.locator('.kpi-value').nth(1).textContent()).toBe('30%'); // 150 / 5 hosts
    expect(await orders.locator('.latency dd .n').nth(1).textContent()).toBe('20'); // 90th: 100 / 5
    expect(await orders.locator('.latency dd .n').nth(3).textContent()).toBe('9'); // mean: 45 / 5
    expect(await orders.locator('.c-failure dd').textContent()).toBe('150'); // counts stay sums
    expect(await orders.locator('.kpi-value').first().textContent()).toBe('50'); // 500 requests / 10 s
    expect(await card(page, 'Payments.Charge').locator('.state').textContent()).toBe('Open');
    expect(await card(page, 'Payments.Charge').locator('.kpi-value').nth(1).textContent()).toBe('80%');
    expect(await card(page, 'Users.Get').locator('.state').textContent()).toBe('Closed');

    await page.getByRole('button', { name: 'Details of Orders.Create' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('per-instance detail is not available');
    expect(await dialog.locator('table').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it('with aggregate: true merges instance streams itself, lists each instance, names the unreachable one, and drops a stopped one', async () => {
    problems.length = 0;
    const instance = (errors: number, requests: number, open: boolean) => ({
      ...hystrixCommand('Orders.Create', 'Orders', open), requestCount: requests, errorCount: errors, rollingCountFailure: errors,
      rollingCountSuccess: requests - errors, errorPercentage: Math.round((errors / requests) * 100), rollingCountShortCircuited: 0,
    });
    const a = await sseServer(() => [instance(40, 50, true)]);
    const b = await sseServer(() => [instance(5, 50, false)]);
    const c = await sseServer(() => [instance(3, 100, false)]);
    const deadPort = await freePort();
    const d = await startDashboard({ port: 0, aggregate: true, streams: [a.url, b.url, c.url, `http://127.0.0.1:${deadPort}/hystrix.stream`] });
    dashboards.push(d);
    const page = await newPage(d.url);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 10_000 }).toBe(1);
    const orders = card(page, 'Orders.Create');
    await expect.poll(() => orders.locator('.state').textContent(), { timeout: 10_000 }).toBe('Open on 1 of 3 hosts');
    expect(await orders.locator('.group').textContent()).toBe('Group Orders \u00b7 3 hosts');
    expect(await orders.locator('.kpi-value').nth(1).textContent()).toBe('24%'); // 48 of 200, not the mean of 80, 10 and 3
    expect(await orders.locator('.kpi-value').first().textContent()).toBe('20'); // 200 requests / 10 s
    expect(await orders.locator('.c-failure dd').textContent()).toBe('48');
    await expect.poll(() => page.locator('#problems li').textContent(), { timeout: 10_000 }).toContain(
      `127.0.0.1:${deadPort}/hystrix.stream unreachable: 502 upstream stream 3 is unreachable (ECONNREFUSED)`,
    );

    await page.getByRole('button', { name: 'Details of Orders.Create' }).click();
    const rows = page.locator('dialog table.instances tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const cells = async (i: number) => (await rows.nth(i).locator('td').allTextContents()).slice(0, 3);
    const label = (url: string) => url.replace('http://', '');
    expect(await cells(0)).toEqual([label(a.url), 'Open', '80%']);
    expect(await cells(1)).toEqual([label(b.url), 'Closed', '10%']);
    expect(await cells(2)).toEqual([label(c.url), 'Closed', '3%']);

    // Instance A stops: it leaves the sums within 10 s of its last report, and its row says so.
    a.server.closeAllConnections();
    a.server.close();
    await expect.poll(() => orders.locator('.state').textContent(), { timeout: 20_000 }).toBe('Closed');
    expect(await orders.locator('.group').textContent()).toBe('Group Orders \u00b7 2 hosts');
    expect(await orders.locator('.kpi-value').nth(1).textContent()).toBe('5%'); // 8 of 150
    await expect.poll(async () => (await rows.nth(0).locator('td').allTextContents()).at(-1)).toMatch(/^not reporting/);
    expect(await page.locator('#problems li').count()).toBe(2); // A is named too now
    expect(problems.filter((p) => !p.includes('status of 502'))).toEqual([]);
    await page.close();
  }, 60_000);
});

/** A loopback SSE server that sends `frames()` every `everyMs`; `port` to take a given (free) port. */
async function sseServer(frames: () => readonly object[], port = 0, everyMs = 200): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8' });
    const send = (): void => {
      res.write(frames().map((f) => `data: ${JSON.stringify(f)}\n\n`).join(''));
    };
    send();
    const timer = setInterval(send, everyMs);
    res.on('close', () => clearInterval(timer));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hystrix.stream` };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/**
 * Key `i` of a busy service at tick `t`: counts, errors, in-flight and latency move every tick, and some circuits
 * trip, so the page has real work (updates, re-sorting) on every sample.
 */
function busyCommand(i: number, t: number): Record<string, unknown> {
  const requests = 100 + ((i * 37 + t * 11) % 400);
  const errors = (i * 7 + t * 3) % 23 === 0 ? Math.round(requests * 0.6) : (i + t) % 5;
  const base = hystrixCommand(`Service${i % 40}.Command${i}`, `Service${i % 40}`, errors > requests / 2);
  const latency = { '0': 1, '25': 4, '50': 8 + (t % 5), '75': 12, '90': 20 + ((i + t) % 9), '95': 30, '99': 45 + (t % 7), '99.5': 50, '100': 61 };
  return {
    ...base, currentTime: t, requestCount: requests, errorCount: errors, errorPercentage: Math.round((errors / requests) * 100),
    rollingCountFailure: errors, rollingCountFallbackSuccess: errors, rollingCountSuccess: requests - errors, rollingCountShortCircuited: 0,
    currentConcurrentExecutionCount: (i + t) % 4, latencyExecute: latency, latencyTotal: latency,
    propertyValue_executionIsolationStrategy: 'SEMAPHORE',
  };
}

/** A Hystrix 1.5 HystrixCommand object (no breakwater extras). */
function hystrixCommand(name: string, group: string, open: boolean): Record<string, unknown> {
  const latency = { '0': 1, '25': 4, '50': 8, '75': 12, '90': 20, '95': 30, '99': 45, '99.5': 50, '100': 61 };
  return {
    type: 'HystrixCommand', name, group, currentTime: 1, isCircuitBreakerOpen: open, errorPercentage: open ? 80 : 0,
    errorCount: open ? 40 : 0, requestCount: 50, rollingCountCollapsedRequests: 0, rollingCountExceptionsThrown: 0,
    rollingCountFailure: open ? 40 : 0, rollingCountFallbackFailure: 0, rollingCountFallbackRejection: 0,
    rollingCountFallbackSuccess: open ? 40 : 0, rollingCountResponsesFromCache: 0, rollingCountSemaphoreRejected: 0,
    rollingCountShortCircuited: open ? 12 : 0, rollingCountSuccess: open ? 10 : 50, rollingCountThreadPoolRejected: 0,
    rollingCountTimeout: 0, rollingCountBadRequests: 0, currentConcurrentExecutionCount: 0, latencyExecute_mean: 9,
    latencyExecute: latency, latencyTotal_mean: 9, latencyTotal: latency,
    propertyValue_circuitBreakerRequestVolumeThreshold: 20, propertyValue_circuitBreakerSleepWindowInMilliseconds: 5000,
    propertyValue_circuitBreakerErrorThresholdPercentage: 50, propertyValue_circuitBreakerForceOpen: false,
    propertyValue_circuitBreakerForceClosed: false, propertyValue_executionIsolationStrategy: 'THREAD',
    propertyValue_executionIsolationThreadTimeoutInMilliseconds: 1000, propertyValue_executionIsolationThreadInterruptOnTimeout: true,
    propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 10, propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: 10,
    propertyValue_requestCacheEnabled: true, propertyValue_requestLogEnabled: true,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10000, reportingHosts: 1,
  };
}
