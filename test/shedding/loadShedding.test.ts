import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  circuitBreakerFor,
  command,
  configure,
  isCommandError,
  loadSheddingMiddleware,
  loadSheddingSnapshot,
  metricsFor,
} from '../../src/index.js';
import { shedder } from '../../src/shedding/loadShedding.js';
import { toHystrixCommand } from '../../src/stream/hystrixJson.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { resetBreakwater, useFakeClock, type FakeClock } from '../../src/testing.js';
import { httpGet } from './support/httpGet.js';

let clock: FakeClock;
let delay = 0;
let starts = 0;
let stops = 0;
beforeEach(() => {
  clock = useFakeClock();
  delay = 0;
  starts = 0;
  stops = 0;
  shedder.useSource({ start: () => void starts++, read: () => delay, stop: () => void stops++ });
});
afterEach(() => resetBreakwater());

/** Sets the delay the next sample reads and takes that sample. */
function sample(ms: number): void {
  delay = ms;
  clock.advance(100);
}

function sheddableCommand(key: string, withFallback = true) {
  let ran = 0;
  const cmd = command({
    key,
    sheddable: true,
    circuitBreaker: { requestVolumeThreshold: 1 },
    metrics: { healthSnapshotInterval: 1 },
    run: async () => {
      ran++;
      return 'ran';
    },
    ...(withFallback ? { fallback: (error: unknown) => (isCommandError(error) ? error.failureType : 'other') } : {}),
  });
  return { cmd, ran: () => ran };
}

describe('load shedding on event-loop delay', () => {
  it('starts the shared monitor only when configured, and stops it with loadShedding: false', () => {
    expect(starts).toBe(0);
    expect(loadSheddingSnapshot()).toMatchObject({ enabled: false, shedding: false });
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    configure({ loadShedding: { maxEventLoopDelay: 120 } }); // reconfiguring keeps the one monitor
    expect(starts).toBe(1);
    expect(clock.pendingTimers).toBe(1); // one sampling timer, whatever the number of commands
    configure({ loadShedding: false });
    expect(stops).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    expect(loadSheddingSnapshot().enabled).toBe(false);
  });

  it('rejects sheddable commands at once with LOAD_SHED, to the fallback, while the delay is above the bound', async () => {
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    const shed = sheddableCommand('Shed');
    const other = command({ key: 'NotShed', run: async () => 'ran' });
    sample(150);
    expect(loadSheddingSnapshot()).toMatchObject({ shedding: true, eventLoopDelayMs: 150, episodes: 1 });
    const seen: string[] = [];
    shed.cmd.events.on('loadShed', (e) => void seen.push(e.eventType));
    for (let i = 0; i < 5; i++) expect(await shed.cmd.execute()).toBe('LOAD_SHED');
    expect(shed.ran()).toBe(0);
    expect(await other.execute()).toBe('ran'); // not marked sheddable
    expect(seen).toEqual(['LOAD_SHED', 'LOAD_SHED', 'LOAD_SHED', 'LOAD_SHED', 'LOAD_SHED']);
    clock.advance(10);
    const m = metricsFor('Shed').snapshot();
    expect(m.rolling.LOAD_SHED).toBe(5);
    expect(m.rolling.FALLBACK_SUCCESS).toBe(5);
    expect(m.health).toEqual({ requestCount: 0, errorCount: 0, errorPercentage: 0 }); // not a health error
    expect(circuitBreakerFor('Shed').state).toBe('CLOSED');
    const rt = existingRuntime('Shed')!;
    expect(rt.semaphore.inUse).toBe(0);
    expect(toHystrixCommand({ snapshot: m, config: rt.config, isCircuitBreakerOpen: false }, 0).rollingCountLoadShed).toBe(5);
  });

  it('gives a caller without a fallback a CommandError with failureType LOAD_SHED', async () => {
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    const { cmd } = sheddableCommand('ShedNoFallback', false);
    sample(101);
    const error = await cmd.execute().catch((e: unknown) => e);
    expect(isCommandError(error) && error.failureType).toBe('LOAD_SHED');
  });

  it('starts above maxEventLoopDelay and stops only at recoverEventLoopDelay (hysteresis)', async () => {
    configure({ loadShedding: { maxEventLoopDelay: 100, recoverEventLoopDelay: 40 } });
    const shed = sheddableCommand('Hysteresis');
    sample(100); // at the bound: not above
    expect(loadSheddingSnapshot().shedding).toBe(false);
    sample(100.5);
    expect(loadSheddingSnapshot().shedding).toBe(true);
    sample(60); // between the bounds: still shedding
    expect(loadSheddingSnapshot().shedding).toBe(true);
    expect(await shed.cmd.execute()).toBe('LOAD_SHED');
    sample(40.1);
    expect(loadSheddingSnapshot().shedding).toBe(true);
    sample(40); // at the recovery bound: recovered
    expect(loadSheddingSnapshot().shedding).toBe(false);
    expect(await shed.cmd.execute()).toBe('ran');
    sample(99); // between the bounds from below: not shedding
    expect(loadSheddingSnapshot()).toMatchObject({ shedding: false, episodes: 1 });
  });

  it('stops shedding at once when switched off', async () => {
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    const shed = sheddableCommand('SwitchOff');
    sample(500);
    expect(await shed.cmd.execute()).toBe('LOAD_SHED');
    configure({ loadShedding: false });
    expect(await shed.cmd.execute()).toBe('ran');
  });

  it('validates its options, naming the option and value', () => {
    expect(() => configure({ loadShedding: { maxEventLoopDelay: 0 } })).toThrow(/loadShedding\.maxEventLoopDelay/);
    expect(() => configure({ loadShedding: { maxEventLoopDelay: 100, recoverEventLoopDelay: 100 } })).toThrow(RangeError);
    expect(() => configure({ loadShedding: { maxEventLoopDelay: 100, sampleInterval: 5 } })).toThrow(/loadShedding\.sampleInterval/);
    expect(() => configure({ loadShedding: { maxDelay: 100 } as never })).toThrow(/loadShedding\.maxDelay/);
    expect(() => command({ key: 'BadShed', run: () => 1, sheddable: 'yes' as never })).toThrow(/sheddable/);
    expect(loadSheddingSnapshot().enabled).toBe(false);
  });
});

describe('loadSheddingMiddleware', () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (server !== null) await new Promise((resolve) => server!.close(resolve));
    server = null;
  });

  async function serve(): Promise<number> {
    const shed = loadSheddingMiddleware({ filter: (req) => req.url !== '/health' });
    server = createServer((req, res) => {
      if (shed(req, res)) return;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server!.address() as AddressInfo).port;
  }

  const get = (port: number, path: string) => httpGet(port, path);

  it('answers 503 with Retry-After on node:http while shedding, and serves otherwise', async () => {
    const port = await serve();
    expect((await get(port, '/')).status).toBe(200); // load shedding not configured
    configure({ loadShedding: { maxEventLoopDelay: 50, retryAfter: 3 } });
    sample(20);
    expect((await get(port, '/')).status).toBe(200);
    sample(80);
    expect(await get(port, '/')).toMatchObject({ status: 503, retryAfter: '3' });
    expect((await get(port, '/health')).status).toBe(200); // filtered out
    expect(loadSheddingSnapshot().httpRequestsShed).toBe(1);
    sample(10);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('works as Express middleware (calls next) and as a Fastify onRequest hook (reply.code/header/send)', () => {
    configure({ loadShedding: { maxEventLoopDelay: 50 } });
    const shed = loadSheddingMiddleware();
    let nextCalls = 0;
    const req = { url: '/' } as never;
    expect(shed(req, {} as never, () => void nextCalls++)).toBe(false);
    expect(nextCalls).toBe(1);
    sample(60);
    const sent: { code?: number; headers: Record<string, string>; body?: string } = { headers: {} };
    const reply = {
      code(n: number) {
        sent.code = n;
        return reply;
      },
      header(k: string, v: string) {
        sent.headers[k] = v;
        return reply;
      },
      send(body: string) {
        sent.body = body;
      },
    };
    expect(shed(req, reply, () => void nextCalls++)).toBe(true);
    expect(nextCalls).toBe(1); // the hook answered: next is not called
    expect(sent).toMatchObject({ code: 503, headers: { 'Retry-After': '1' } });
  });
});

describe('Prometheus', () => {
  it('exposes the shedding state, the delay and the HTTP count while load shedding is on, and LOAD_SHED per command', async () => {
    const { Registry } = await import('prom-client');
    const { registerPrometheus } = await import('../../src/index.js');
    const registry = new Registry();
    registerPrometheus(registry);
    expect(await registry.metrics()).toMatch(/^breakwater_load_shedding 0$/m); // off
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    const shed = sheddableCommand('PromShed');
    sample(250);
    await shed.cmd.execute();
    const reply = { code: () => reply, header: () => reply, send: () => undefined };
    loadSheddingMiddleware()({} as never, reply);
    const text = await registry.metrics();
    expect(text).toMatch(/^breakwater_load_shedding 1$/m);
    expect(text).toMatch(/^breakwater_load_shedding_event_loop_delay_seconds 0\.25$/m);
    expect(text).toMatch(/^breakwater_load_shed_http_requests_total 1$/m);
    expect(text).toMatch(/^breakwater_command_events_total\{command="PromShed",group="PromShed",event="load_shed"\} 1$/m);
  });
});
