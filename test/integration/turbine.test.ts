import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTurbine, type Turbine } from '../../src/index.js';
import { openStream, type LiveStream } from '../dashboard/support.js';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { startLocalServer, type LocalServer } from './support/http.js';
import { hystrixDashboardWebapp, originalDashboardListener, underscoreReroute } from './support/hystrixDashboard.js';
import { freePort, pollUntil, startProcess, type Child } from './support/processes.js';

/**
 * Three real instance processes (test/integration/support/fleetInstance.ts) with different traffic on the same
 * keys, and a turbine in front. Time budget (whole file ≤ 90 s): beforeAll 30 s, then the tests below.
 */

const FIXTURE = 'test/integration/support/fleetInstance.ts';
/** Each instance: its calls, its share of failures, its pace. Instance 2 fails half its calls, so its circuit opens. */
const PROFILES = [
  { calls: 120, errors: 0, perTick: 20 },
  { calls: 200, errors: 10, perTick: 25 },
  { calls: 60, errors: 50, perTick: 10 },
];

interface Instance {
  port: number;
  child: Child;
  stream: LiveStream;
}

const instances: Instance[] = [];
let turbine: Turbine;
let aggregate: LiveStream;

function spawnInstance(port: number, profile: (typeof PROFILES)[number]): Child {
  return startProcess(process.execPath, [
    '--import', 'tsx', FIXTURE, '--port', String(port), '--calls', String(profile.calls), '--errors', String(profile.errors), '--per-tick', String(profile.perTick),
  ]);
}

async function untilOutput(child: Child, text: string, timeoutMs: number): Promise<void> {
  await pollUntil(async () => (child.output().includes(text) ? true : undefined), timeoutMs, 50).catch((error: unknown) => {
    throw new Error(`${String(error)}\nchild output:\n${child.output()}`);
  });
}

function latest(s: LiveStream, type: string, name: string): Record<string, unknown> | undefined {
  const all = s.objects().filter((o) => o.type === type && o.name === name);
  return all[all.length - 1];
}

/** The numeric fields a turbine sums (not properties, not the ones with a rule of their own). */
function summedFields(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter(
    (k) => typeof o[k] === 'number' && !k.startsWith('propertyValue_') && !['reportingHosts', 'errorPercentage', 'currentTime'].includes(k),
  );
}

beforeAll(async () => {
  const ports = await Promise.all(PROFILES.map(() => freePort()));
  const children = PROFILES.map((p, i) => spawnInstance(ports[i]!, p));
  await Promise.all(children.map((c) => untilOutput(c, 'done', 25_000)));
  for (let i = 0; i < children.length; i++) {
    const stream = await openStream(`http://127.0.0.1:${ports[i]}/hystrix.stream`);
    instances.push({ port: ports[i]!, child: children[i]!, stream });
  }
  turbine = await startTurbine({ port: 0, streams: ports.map((p) => `http://127.0.0.1:${p}/hystrix.stream`) });
  aggregate = await openStream(turbine.url);
}, 30_000);

afterAll(async () => {
  aggregate?.close();
  for (const i of instances) i.stream.close();
  await turbine?.close();
  await Promise.all(instances.map((i) => i.child.stop()));
}, 15_000);

describe('a turbine in front of three instance processes', () => {
  it("sums every count of every key to the instances' own figures, and counts the hosts", async () => {
    for (const [type, name] of [['HystrixCommand', 'Fleet.Get'], ['HystrixCommand', 'Fleet.Put'], ['HystrixThreadPool', 'FleetPool']] as const) {
      await aggregate.waitFor((s) => latest(s, type, name)?.reportingHosts === 3, 10_000);
      // The instances are idle now, so their objects (and the turbine's) no longer change: one moment is enough.
      await Promise.all(instances.map((i) => i.stream.waitFor((s) => latest(s, type, name) !== undefined, 5000)));
      const own = instances.map((i) => latest(i.stream, type, name)!);
      const merged = latest(aggregate, type, name)!;
      for (const field of summedFields(own[0]!)) {
        if (type === 'HystrixThreadPool' && field === 'currentTaskCount') continue; // includes active/queued, 0 when idle; still summed
        const sum = own.reduce((acc, o) => acc + (o[field] as number), 0);
        expect(merged[field], `${name}.${field}`).toBe(sum);
      }
    }
    const get = latest(aggregate, 'HystrixCommand', 'Fleet.Get')!;
    const own = instances.map((i) => latest(i.stream, 'HystrixCommand', 'Fleet.Get')!);
    const errors = own.reduce((a, o) => a + (o.errorCount as number), 0);
    const requests = own.reduce((a, o) => a + (o.requestCount as number), 0);
    expect(Number(get.errorPercentage) / 3).toBe(Math.floor((100 * errors) / requests));
    // the traffic really differed, and the fleet's error percentage is that of the summed counts
    expect(new Set(own.map((o) => o.requestCount)).size).toBe(3);
    expect(get.isCircuitBreakerOpen).toEqual({ true: 1, false: 2 });
  }, 20_000);

  it('the original Hystrix Dashboard renders the aggregated stream: "Hosts 3", the summed cluster rate, the mixed circuit', async () => {
    const webapp = await hystrixDashboardWebapp();
    const server: LocalServer = await startLocalServer(originalDashboardListener(webapp));
    let browser: TestBrowser | undefined;
    try {
      browser = await launchChromium(await underscoreReroute());
      const page = await browser.context.newPage();
      const consoleLines: string[] = [];
      page.on('console', (m) => consoleLines.push(m.text()));
      await page.goto(`${server.url}/monitor/monitor.html?stream=${encodeURIComponent(turbine.url)}&title=fleet`, { waitUntil: 'load', timeout: 15_000 });
      const get = latest(aggregate, 'HystrixCommand', 'Fleet.Get')!;
      const rate = Math.round((Number(get.requestCount) / 60) * 10) / 10;
      const expected = {
        hosts: '3',
        cluster: `Cluster: ${rate.toFixed(1)}/s`,
        circuit: 'Circuit Open 1 Closed 2',
        error: `${(Number(get.errorPercentage) / 3).toFixed(1)} %`,
      };
      const read = () =>
        page.evaluate(() => {
          const doc = (globalThis as any).document;
          const tile = doc.getElementById('CIRCUIT_Fleet.Get_0');
          if (tile === null) return null;
          const text = (el: any): string => String(el?.textContent ?? '').replace(/\s+/g, ' ').trim();
          const cells: any[] = [...tile.querySelectorAll('.tableRow .cell')];
          const hostsAt = cells.findIndex((c) => text(c) === 'Hosts');
          const rates: any[] = [...tile.querySelectorAll('.rate')];
          return {
            hosts: hostsAt === -1 ? '' : text(cells[hostsAt + 1]),
            cluster: text(rates.find((r) => text(r).startsWith('Cluster'))),
            circuit: text(tile.querySelector('.circuitStatus')),
            error: text(tile.querySelector('.errorPercentage')),
          };
        });
      const shown = await pollUntil(async () => {
        const t = await read();
        return t !== null && t.hosts === expected.hosts && t.cluster === expected.cluster ? t : undefined;
      }, 10_000, 100).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; last: ${JSON.stringify(await read())}; console: ${consoleLines.join(' | ')}`);
      });
      expect(shown).toEqual(expected);
      expect(consoleLines.filter((l) => l.includes('Key Missing') || l.includes('Failed preProcessData'))).toEqual([]);
      expect(browser.blocked).toEqual([]);
    } finally {
      await browser?.close();
      await server.close();
    }
  }, 40_000);

  it('drops a killed instance from reportingHosts at once, and counts it again after it restarts', async () => {
    const victim = instances[2]!;
    victim.stream.close();
    const killedAt = Date.now();
    victim.child.process.kill('SIGKILL');
    await aggregate.waitFor((s) => latest(s, 'HystrixCommand', 'Fleet.Get')?.reportingHosts === 2, 5000);
    const dropMs = Date.now() - killedAt;
    const status = turbine.instances().find((i) => i.id === `127.0.0.1:${victim.port}/hystrix.stream`)!;
    expect(status.state).not.toBe('up');
    // the restarted process has its own, fresh counts: the aggregate follows them
    victim.child = spawnInstance(victim.port, PROFILES[2]!);
    const restartedAt = Date.now();
    await untilOutput(victim.child, 'ready', 15_000);
    await aggregate.waitFor((s) => latest(s, 'HystrixCommand', 'Fleet.Get')?.reportingHosts === 3, 15_000);
    console.info(`turbine: killed instance dropped after ${dropMs} ms, back ${Date.now() - restartedAt} ms after its restart`);
    expect(turbine.instances().every((i) => i.state === 'up')).toBe(true);
  }, 40_000);

  it('drops an instance that stops sending (SIGSTOP) within the instance timeout, and takes it back when it resumes', async () => {
    const victim = instances[1]!;
    const pid = victim.child.process.pid!;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      await aggregate.waitFor((s) => latest(s, 'HystrixCommand', 'Fleet.Get')?.reportingHosts === 2, 10_000);
      const dropMs = Date.now() - stoppedAt;
      // the documented bound: 5 s of silence (instanceTimeout), plus one sample and some slack for a loaded machine
      expect(dropMs).toBeLessThan(5000 + 3000);
      expect(dropMs).toBeGreaterThanOrEqual(4000);
      expect(turbine.instances().find((i) => i.id === `127.0.0.1:${victim.port}/hystrix.stream`)?.reason).toBe('silent for 5000 ms');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await aggregate.waitFor((s) => latest(s, 'HystrixCommand', 'Fleet.Get')?.reportingHosts === 3, 15_000);
  }, 30_000);
});

