import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/fleet/discovery.js';
import { startTurbine, type Turbine } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream, send, type LiveStream } from '../dashboard/support.js';
import { startLocalServer, type LocalServer } from '../integration/support/http.js';

/**
 * Loopback tests of the turbine's server, discovery and connections, against small local servers that stream
 * fixed objects (the real instance processes are in test/integration/turbine.test.ts).
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  resetBreakwater();
});

/** A stream server sending `objects()` every 100 ms. */
async function fakeInstance(objects: () => object[]): Promise<LocalServer & { clients: Set<ServerResponse> }> {
  const clients = new Set<ServerResponse>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server = await startLocalServer((req, res) => {
    if (req.url !== '/hystrix.stream') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    clients.add(res);
    const send = (): void => {
      for (const o of objects()) res.write(`data: ${JSON.stringify(o)}\n\n`);
    };
    send();
    const t = setInterval(send, 100);
    timers.add(t);
    res.once('close', () => {
      clearInterval(t);
      clients.delete(res);
    });
  });
  const instance = Object.assign(server, { clients });
  cleanups.push(async () => {
    for (const t of timers) clearInterval(t);
    await server.close();
  });
  return instance;
}

const command = (name: string, requestCount: number, errorCount: number, open = false) => ({
  type: 'HystrixCommand', name, group: 'G', requestCount, errorCount, errorPercentage: Math.floor((100 * errorCount) / Math.max(1, requestCount)),
  isCircuitBreakerOpen: open, rollingCountSuccess: requestCount - errorCount, reportingHosts: 1,
  propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10_000,
});

async function turbineOf(options: Parameters<typeof startTurbine>[0]): Promise<Turbine> {
  const t = await startTurbine({ port: 0, intervalMs: 100, ...options });
  cleanups.push(() => t.close());
  return t;
}

async function watch(url: string): Promise<LiveStream> {
  const s = await openStream(url);
  cleanups.push(() => s.close());
  return s;
}

function latest(s: LiveStream, type: string, name?: string): Record<string, unknown> | undefined {
  const all = s.objects().filter((o) => o.type === type && (name === undefined || o.name === name));
  return all[all.length - 1];
}

describe('startTurbine', () => {
  it('serves the aggregate of its instances at /turbine.stream on 127.0.0.1, with a status object', async () => {
    const a = await fakeInstance(() => [command('Get', 10, 5, true)]);
    const b = await fakeInstance(() => [command('Get', 30, 0)]);
    const turbine = await turbineOf({ streams: [`${a.url}/hystrix.stream`, `${b.url}/hystrix.stream`] });
    expect(turbine.url).toBe(`http://127.0.0.1:${turbine.port}/turbine.stream`);
    expect(turbine.server.address()).toMatchObject({ address: '127.0.0.1' });
    const s = await watch(turbine.url);
    expect(s.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    await s.waitFor((x) => latest(x, 'HystrixCommand', 'Get')?.reportingHosts === 2);
    expect(latest(s, 'HystrixCommand', 'Get')).toMatchObject({
      requestCount: 40, errorCount: 5, errorPercentage: 24, isCircuitBreakerOpen: { true: 1, false: 1 }, rollingCountSuccess: 35,
    });
    const status = latest(s, 'TurbineInstances')!;
    expect(status).toMatchObject({ reporting: 2, discoveryErrors: [] });
    expect((status.instances as { id: string; state: string }[]).map((i) => `${i.id} ${i.state}`).sort()).toEqual(
      [`127.0.0.1:${a.port}/hystrix.stream up`, `127.0.0.1:${b.port}/hystrix.stream up`].sort(),
    );
    expect((await send(`http://127.0.0.1:${turbine.port}/`)).status).toBe(404);
    expect((await send(turbine.url, { method: 'POST' })).status).toBe(405);
    // a page on another site reaching the turbine through DNS rebinding carries its own Host: refused
    expect((await send(turbine.url, { headers: { host: 'evil.example' } })).status).toBe(403);
  });

  it('drops an instance that goes away at once, says why, and counts it again when it is back', async () => {
    const a = await fakeInstance(() => [command('Get', 1, 0)]);
    let bUp = true;
    const b = await fakeInstance(() => (bUp ? [command('Get', 2, 0)] : []));
    const turbine = await turbineOf({ streams: [`${a.url}/hystrix.stream`, `${b.url}/hystrix.stream`] });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.reportingHosts === 2);
    bUp = false;
    for (const c of b.clients) c.destroy();
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.reportingHosts === 1, 2000);
    const down = turbine.instances().find((i) => i.id.endsWith(`${b.port}/hystrix.stream`))!;
    expect(down.state).not.toBe('up');
    bUp = true;
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.reportingHosts === 2, 5000);
  });

  it('calls a streams function again and follows its answer', async () => {
    const a = await fakeInstance(() => [command('Get', 1, 0)]);
    const b = await fakeInstance(() => [command('Get', 2, 0)]);
    let list = [`${a.url}/hystrix.stream`];
    let calls = 0;
    const turbine = await turbineOf({
      streams: async () => {
        calls++;
        return list;
      },
      discoveryInterval: 100,
    });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.requestCount === 1);
    list = [`${a.url}/hystrix.stream`, `${b.url}/hystrix.stream`];
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.requestCount === 3);
    list = [`${b.url}/hystrix.stream`];
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.requestCount === 2 && latest(x, 'HystrixCommand')?.reportingHosts === 1);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it("discovers instances through DNS: 'localhost' resolves to 127.0.0.1 with the system resolver", async () => {
    const a = await fakeInstance(() => [command('Get', 4, 0)]);
    const turbine = await turbineOf({ streams: [{ dns: `localhost:${a.port}` }], discoveryInterval: 200 });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.requestCount === 4);
    expect(turbine.instances().map((i) => i.id)).toContain(`127.0.0.1:${a.port}/hystrix.stream`);
  });

  it('with an injected resolver, every address is an instance and a changed answer is followed', async () => {
    const a = await fakeInstance(() => [command('Get', 1, 0)]);
    let addresses = ['127.0.0.1'];
    const turbine = await turbineOf({ streams: [{ dns: `svc.internal:${a.port}`, path: '/hystrix.stream' }], discoveryInterval: 100, resolve: async () => addresses });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.reportingHosts === 1);
    // a second address on this machine: 127.0.0.2 is loopback on Linux, and the fake instance listens on 127.0.0.1 only
    addresses = ['127.0.0.1', '127.0.0.2'];
    await s.waitFor((x) => ((latest(x, 'TurbineInstances')?.instances as unknown[] | undefined)?.length ?? 0) === 2);
    expect(latest(s, 'HystrixCommand')?.reportingHosts).toBe(1);
    expect(turbine.instances().find((i) => i.id.startsWith('127.0.0.2'))?.state).not.toBe('up');
  });

  it('reports discovery errors in the status object and keeps what it had', async () => {
    const a = await fakeInstance(() => [command('Get', 1, 0)]);
    let fail = false;
    const turbine = await turbineOf({
      streams: () => {
        if (fail) throw new Error('consul unreachable');
        return [`${a.url}/hystrix.stream`];
      },
      discoveryInterval: 100,
    });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand')?.reportingHosts === 1);
    fail = true;
    await s.waitFor((x) => ((latest(x, 'TurbineInstances')?.discoveryErrors as string[] | undefined) ?? []).length > 0);
    expect(latest(s, 'TurbineInstances')!.discoveryErrors).toEqual(['startTurbine.streams(): consul unreachable']);
    expect(latest(s, 'HystrixCommand')?.reportingHosts).toBe(1);
  });

  it('refuses bad options with errors that name the option and value', async () => {
    await expect(startTurbine({} as never)).rejects.toThrow(/startTurbine\.streams` is required/);
    await expect(startTurbine({ streams: ['ftp://x/'] })).rejects.toThrow(/startTurbine\.streams\[0\]/);
    await expect(startTurbine({ streams: [{ dns: 'nohostport' }] })).rejects.toThrow(/startTurbine\.streams\[0\]\.dns/);
    await expect(startTurbine({ streams: [{ dns: 'a:1', path: 'x' }] })).rejects.toThrow(/startTurbine\.streams\[0\]\.path/);
    await expect(startTurbine({ streams: [], port: -1 })).rejects.toThrow(/startTurbine\.port/);
    await expect(startTurbine({ streams: [], instanceTimeout: 10 })).rejects.toThrow(/startTurbine\.instanceTimeout/);
    await expect(startTurbine({ streams: [], colour: 1 } as never)).rejects.toThrow(/startTurbine\.colour/);
  });

  it('close() ends client streams and upstream connections', async () => {
    const a = await fakeInstance(() => [command('Get', 1, 0)]);
    const turbine = await startTurbine({ port: 0, intervalMs: 100, streams: [`${a.url}/hystrix.stream`] });
    const s = await watch(turbine.url);
    await s.waitFor((x) => latest(x, 'HystrixCommand') !== undefined);
    await turbine.close();
    await s.ended;
    for (let i = 0; i < 50 && a.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(a.clients.size).toBe(0);
    await turbine.close();
  });
});

describe('discover', () => {
  it('gives every address its own instance (IPv6 in brackets) and keeps ids free of credentials and query', async () => {
    const { instances, errors } = await discover(
      ['http://user:secret@10.0.0.9:8080/hystrix.stream?token=abc', { dns: 'svc:9000', path: '/s' }],
      async () => ['10.0.0.1', 'fd00::2'],
      'streams',
    );
    expect(errors).toEqual([]);
    expect(instances.map((i) => [i.id, i.url.href])).toEqual([
      ['10.0.0.9:8080/hystrix.stream', 'http://user:secret@10.0.0.9:8080/hystrix.stream?token=abc'],
      ['10.0.0.1:9000/s', 'http://10.0.0.1:9000/s'],
      ['[fd00::2]:9000/s', 'http://[fd00::2]:9000/s'],
    ]);
  });

  it('reports a name that does not resolve', async () => {
    const failing = Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    const { instances, errors } = await discover([{ dns: 'missing:1' }], () => Promise.reject(failing), 'streams');
    expect(instances).toEqual([]);
    expect(errors).toEqual(['missing: ENOTFOUND']);
  });
});
