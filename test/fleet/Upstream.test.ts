import { describe, expect, it } from 'vitest';
import { reconnectDelay, RECONNECT_CAP_MS } from '../../src/fleet/backoff.js';
import { FleetView } from '../../src/fleet/FleetView.js';
import { SseParser } from '../../src/fleet/SseParser.js';
import { Upstream, type StreamTransport, type TransportHandlers } from '../../src/fleet/Upstream.js';
import { FakeClock } from '../../src/testing.js';

describe('reconnectDelay', () => {
  it('doubles from 500 ms with jitter in the upper half of each step, and never waits more than 10 s', () => {
    expect(reconnectDelay(0, 0)).toBe(250);
    expect(reconnectDelay(0, 0.999999)).toBe(500);
    expect(reconnectDelay(1, 0)).toBe(500);
    expect(reconnectDelay(3, 0.5)).toBe(3000);
    for (let attempt = 0; attempt < 100; attempt++) {
      for (const r of [0, 0.3, 0.7, 0.99999]) {
        const d = reconnectDelay(attempt, r);
        expect(d).toBeLessThanOrEqual(RECONNECT_CAP_MS);
        expect(d).toBeGreaterThanOrEqual(250);
      }
    }
    expect(reconnectDelay(5, 0)).toBe(5000);
    expect(reconnectDelay(50, 0.99999)).toBe(10_000);
  });
});

describe('SseParser', () => {
  it('joins data lines per event, across chunk boundaries and CRLF, and reports comments as heartbeats', () => {
    const data: string[] = [];
    let beats = 0;
    const p = new SseParser((d) => data.push(d), () => beats++);
    p.push('ping: \n\ndata: {"a"');
    p.push(':1}\r\n\r\ndata: x\ndata: y\n\n: c\n\n');
    expect(data).toEqual(['{"a":1}', 'x\ny']);
    expect(beats).toBe(2);
  });

  it('refuses a line longer than its limit', () => {
    const p = new SseParser(() => undefined, () => undefined, 16);
    expect(() => p.push('data: 0123456789abcdefgh')).toThrow(RangeError);
  });
});

/** A transport the test drives by hand: each connect() is recorded; the test opens, feeds and fails it. */
function fakeTransport() {
  const attempts: { url: URL; h: TransportHandlers; closed: boolean }[] = [];
  const transport: StreamTransport = (url, h) => {
    const attempt = { url, h, closed: false };
    attempts.push(attempt);
    return {
      close: () => {
        attempt.closed = true;
      },
    };
  };
  return { transport, attempts, last: () => attempts[attempts.length - 1]! };
}

const frame = (o: object): string => `data: ${JSON.stringify(o)}\n\n`;
const A = { type: 'HystrixCommand', name: 'A', requestCount: 3, errorCount: 0, isCircuitBreakerOpen: false, reportingHosts: 1 };

describe('Upstream (on a FakeClock, with a scripted transport)', () => {
  function setup() {
    const clock = new FakeClock();
    const view = new FleetView(5000);
    const t = fakeTransport();
    const up = new Upstream('i1', new URL('http://127.0.0.1:1/hystrix.stream'), view, clock, 5000, t.transport, () => 0.5);
    return { clock, view, t, up };
  }

  it('counts an instance once objects arrive, and drops it at once when its connection closes', () => {
    const { clock, view, t, up } = setup();
    expect(up.state).toBe('connecting');
    t.last().h.onOpen();
    t.last().h.onChunk(frame(A));
    expect(up.state).toBe('up');
    expect(view.aggregate(clock.now())[0]).toMatchObject({ name: 'A', reportingHosts: 1 });
    t.last().h.onError('closed by the instance');
    expect(up.state).toBe('down');
    expect(up.reason).toBe('closed by the instance');
    expect(view.aggregate(clock.now())).toEqual([]);
    up.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('drops a silent instance after the timeout, heartbeats keep it, and reconnects after the backoff', () => {
    const { clock, view, t, up } = setup();
    t.last().h.onOpen();
    t.last().h.onChunk(frame(A));
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      t.last().h.onChunk('ping: \n\n');
    }
    expect(up.state).toBe('up');
    clock.advance(4999);
    expect(up.state).toBe('up');
    clock.advance(1);
    expect(up.state).toBe('down');
    expect(up.reason).toBe('silent for 5000 ms');
    expect(t.attempts[0]!.closed).toBe(true);
    expect(view.ids()).toEqual([]);
    // it had delivered data, so the backoff starts again from the first step: 375 ms with random 0.5
    clock.advance(374);
    expect(t.attempts).toHaveLength(1);
    clock.advance(1);
    expect(t.attempts).toHaveLength(2);
    expect(up.state).toBe('connecting');
    up.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('backs off exponentially while the instance stays unreachable, capped at 10 s, and resets once it answers', () => {
    const { clock, t, up } = setup();
    const gaps: number[] = [];
    let last = clock.now();
    for (let i = 0; i < 8; i++) {
      t.last().h.onError('ECONNREFUSED');
      const before = t.attempts.length;
      while (t.attempts.length === before) clock.advance(1);
      gaps.push(clock.now() - last);
      last = clock.now();
    }
    expect(gaps).toEqual([375, 750, 1500, 3000, 6000, 7500, 7500, 7500]);
    t.last().h.onOpen();
    t.last().h.onChunk(frame(A));
    t.last().h.onError('closed by the instance');
    expect(up.attempt).toBe(0);
    clock.advance(375);
    expect(t.attempts).toHaveLength(10);
    up.close();
  });

  it('a connection that opens but never sends is dropped after the timeout too', () => {
    const { clock, t, up } = setup();
    t.last().h.onOpen();
    clock.advance(5000);
    expect(up.state).toBe('down');
    expect(up.reason).toBe('silent for 5000 ms');
    up.close();
  });

  it('skips frames that are not JSON objects, and drops a connection that sends a line beyond the limit', () => {
    const { clock, view, t, up } = setup();
    t.last().h.onOpen();
    t.last().h.onChunk('data: not json\n\ndata: [1,2]\n\n' + frame(A));
    expect(view.aggregate(clock.now())).toHaveLength(1);
    t.last().h.onChunk('data: ' + 'x'.repeat(1 << 20) + 'x');
    expect(up.state).toBe('down');
    expect(up.reason).toBe('a stream line too long');
    up.close();
  });

  it('after close() nothing reconnects and late callbacks change nothing', () => {
    const { clock, view, t, up } = setup();
    const first = t.last();
    first.h.onOpen();
    up.close();
    first.h.onChunk(frame(A));
    first.h.onError('ECONNRESET');
    clock.advance(60_000);
    expect(t.attempts).toHaveLength(1);
    expect(view.ids()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('FleetView', () => {
  it('stops counting a key an instance no longer sends after the stale time', () => {
    const view = new FleetView(5000);
    view.accept('a', A, 0);
    view.accept('a', { ...A, name: 'B' }, 0);
    view.accept('a', A, 3000);
    expect(view.aggregate(5000).map((o) => o.name)).toEqual(['A', 'B']);
    expect(view.aggregate(5001).map((o) => o.name)).toEqual(['A']);
  });
});
