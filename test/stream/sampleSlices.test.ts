import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { circuitBreakerFor, command, dashboardEvents, hystrixDashboardSample, metricsFor, type HystrixCommandJson, type HystrixDashboardObject } from '../../src/index.js';
import { SampleReader, sampleObjectsInSlices, sampleTextInSlices, type SamplePart, type SliceOptions, type SliceStats } from '../../src/stream/sampleSlices.js';
import { resetBreakwater, useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A command whose run takes `latency()` ms of fake time. */
function timed(key: string, latency: () => number) {
  return command({
    key,
    timeout: false,
    run: async () => {
      clock.advance(latency());
      return 1;
    },
  });
}

function commandsOf(objects: readonly HystrixDashboardObject[]): HystrixCommandJson[] {
  return objects.filter((o): o is HystrixCommandJson => o.type === 'HystrixCommand');
}

/** The `data:` objects of SSE text. */
function parse(text: string): HystrixCommandJson[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => JSON.parse(f.slice(6)) as HystrixCommandJson);
}

describe('sliced dashboard samples', () => {
  it('builds a sample of many keys over several event-loop turns, letting other work run in between', async () => {
    for (let i = 0; i < 95; i++) await command({ key: `Slice.${i}`, run: async () => i }).execute();
    const stats: SliceStats = { slices: 0, longestMs: 0 };
    let otherWorkRanAt = -1;
    let visited = 0;
    setImmediate(() => (otherWorkRanAt = visited));
    const pending = sampleObjectsInSlices({ maxPerSlice: 10, budgetMs: Infinity, stats }).then((objects) => {
      visited = objects.length;
      return objects;
    });
    const objects = await pending;
    expect(stats.slices).toBe(10);
    expect(otherWorkRanAt).toBe(0); // ran while the sample was still being built
    const names = commandsOf(objects).map((o) => o.name);
    expect(names).toEqual(commandsOf(hystrixDashboardSample()).map((o) => o.name));
    expect(commandsOf(objects).every((o) => o.rollingCountSuccess === 1 && o.currentTime === clock.wallTime())).toBe(true);
  });

  it('reads a sample a part at a time: at most `max` objects each, in the order of the whole sample, each part in slices', async () => {
    for (let i = 0; i < 25; i++) await command({ key: `Part.${i}`, isolation: i % 10 === 0 ? 'pool' : 'semaphore', pool: `PartPool${i}`, run: async () => i }).execute();
    const whole = await sampleObjectsInSlices();
    const reader = new SampleReader();
    const next = (options?: SliceOptions) => new Promise<SamplePart>((resolve, reject) => reader.next(10, (e, p) => (e === undefined ? resolve(p!) : reject(e)), options));
    // a key run between two parts shows its new figures in its own part (read when the part is made)
    const stats: SliceStats = { slices: 0, longestMs: 0 };
    const parts: SamplePart[] = [await next({ maxPerSlice: 3, budgetMs: Infinity, stats })];
    expect(stats.slices).toBe(4); // 10 objects, 3 per slice
    await command({ key: 'Part.24', run: async () => 0 }).execute();
    while (!parts.at(-1)!.last) parts.push(await next());
    expect(parts.map((p) => [p.objects.length, p.last])).toEqual([[10, false], [10, false], [8, true]]); // 25 commands, 3 pools
    expect(parts.flatMap((p) => p.objects.map((o) => `${o.type}:${o.name}`))).toEqual(whole.map((o) => `${o.type}:${o.name}`));
    const last = commandsOf(parts.flatMap((p) => p.objects)).find((o) => o.name === 'Part.24')!;
    expect(last.rollingCountSuccess).toBe(2);
    // nothing registered: one empty last part
    resetBreakwater();
    const empty = await new Promise<SamplePart>((resolve) => new SampleReader().next(10, (_, p) => resolve(p!)));
    expect(empty).toEqual({ objects: [], last: true });
  });

  it('completes a small sample synchronously, within the timer turn', () => {
    let got: HystrixDashboardObject[] | undefined;
    void sampleObjectsInSlices({ stats: { slices: 0, longestMs: 0 } }).then((o) => (got = o));
    expect(got).toBeUndefined(); // the promise settles in a microtask, but no event-loop turn was needed:
    const stats: SliceStats = { slices: 0, longestMs: 0 };
    void sampleTextInSlices({ stats });
    expect(stats.slices).toBe(1);
  });

  it('reads percentiles at most once per percentile bucket per key, at a per-key moment, while a fresh read sees new latencies at once', async () => {
    let latency = 10;
    const c = timed('Slice.Latency', () => latency);
    for (let i = 0; i < 5; i++) await c.execute();
    expect(commandsOf(await sampleObjectsInSlices())[0]!.latencyExecute['100']).toBe(10);
    latency = 300;
    await c.execute(); // 300 ms of fake time
    // The stream's sample keeps the percentiles it read in this bucket, while its counts are current ...
    let sample = commandsOf(await sampleObjectsInSlices())[0]!;
    expect(sample.rollingCountSuccess).toBe(6);
    expect(sample.latencyExecute['100']).toBe(10);
    // ... fresh readers see the new latency now (and what they read is what the stream shows next).
    expect(metricsFor('Slice.Latency').snapshot().latencyExecute.percentiles['100']).toBeGreaterThanOrEqual(297);
    expect(commandsOf(hystrixDashboardSample())[0]!.latencyExecute['100']).toBeGreaterThanOrEqual(297);
    expect(commandsOf(await sampleObjectsInSlices())[0]!.latencyExecute['100']).toBeGreaterThanOrEqual(297);
    latency = 500;
    await c.execute();
    sample = commandsOf(await sampleObjectsInSlices())[0]!;
    expect(sample.latencyExecute['100']).toBeLessThan(490);
    const bucketMs = 60_000 / 6;
    let waited = 0;
    while (sample.latencyExecute['100'] < 490 && waited <= bucketMs) {
      clock.advance(500);
      waited += 500;
      sample = commandsOf(await sampleObjectsInSlices())[0]!;
    }
    expect(sample.latencyExecute['100']).toBeGreaterThanOrEqual(490);
    expect(waited).toBeLessThanOrEqual(bucketMs); // within one bucket length, never later
    // Read again: then not before another bucket length has passed.
    latency = 900;
    await c.execute();
    let unchanged = 0;
    for (let t = 0; t < bucketMs - 1000; t += 500) {
      const again = commandsOf(await sampleObjectsInSlices())[0]!;
      if (again.latencyExecute['100'] < 890) unchanged++;
      clock.advance(500);
    }
    expect(unchanged).toBeGreaterThan(0);
    clock.advance(1500);
    expect(commandsOf(await sampleObjectsInSlices())[0]!.latencyExecute['100']).toBeGreaterThanOrEqual(890);
  });

  it('serialises an unchanged key once: later samples reuse its frame around the new currentTime', async () => {
    const c = command({ key: 'Slice.Idle', run: async () => 1 });
    await c.execute();
    clock.advance(500);
    const before = await sampleTextInSlices();
    const stringify = vi.spyOn(JSON, 'stringify');
    clock.advance(400); // same rolling bucket (1 s): nothing can have changed
    const after = await sampleTextInSlices();
    expect(stringify).not.toHaveBeenCalled();
    expect(after.replace(/"currentTime":\d+/, '')).toBe(before.replace(/"currentTime":\d+/, ''));
    expect(parse(after)[0]!.currentTime).toBe(clock.wallTime());
    stringify.mockRestore();
    // Any change rebuilds it: a call, a circuit forced open, the window moving on.
    await c.execute();
    expect(parse(await sampleTextInSlices())[0]!.rollingCountSuccess).toBe(2);
    circuitBreakerFor('Slice.Idle').forceOpen();
    expect(parse(await sampleTextInSlices())[0]).toMatchObject({ isCircuitBreakerOpen: true, circuitState: 'OPEN' });
    circuitBreakerFor('Slice.Idle').reset();
    clock.advance(10_000);
    expect(parse(await sampleTextInSlices())[0]).toMatchObject({ rollingCountSuccess: 0, isCircuitBreakerOpen: false });
    // A key with an empty window is not rebuilt as time passes.
    const quiet = vi.spyOn(JSON, 'stringify');
    for (let i = 0; i < 10; i++) {
      clock.advance(700);
      expect(parse(await sampleTextInSlices().finally(() => quiet.mockClear()))[0]!.currentTime).toBe(clock.wallTime());
    }
    expect(quiet.mock.calls.filter((call) => (call[0] as { type?: string } | undefined)?.type === 'HystrixCommand')).toHaveLength(0);
  });

  it('gives the same objects as hystrixDashboardSample(), field for field, when percentiles have not moved', async () => {
    const c = timed('Slice.Same', () => 7);
    const bad = command({ key: 'Slice.Bad', run: async (): Promise<number> => Promise.reject(new Error('x')), fallback: () => 0 });
    for (let i = 0; i < 4; i++) {
      await c.execute();
      await bad.execute();
    }
    const sliced = await sampleObjectsInSlices();
    const text = parse(await sampleTextInSlices());
    const plain = hystrixDashboardSample();
    expect(sliced).toEqual(plain);
    expect(text).toEqual(commandsOf(plain));
  });

  it('dashboardEvents and the stream keep emitting every key when the sample spans many turns', async () => {
    for (let i = 0; i < 40; i++) await command({ key: `Slice.Ev.${i}`, run: async () => i }).execute();
    const seen: string[] = [];
    const sub = dashboardEvents({ intervalMs: 100 }).subscribe((o) => seen.push(o.name));
    clock.advance(100);
    for (let i = 0; i < 200 && seen.length < 40; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toHaveLength(40);
    clock.advance(100);
    for (let i = 0; i < 200 && seen.length < 80; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen.slice(40)).toEqual(seen.slice(0, 40));
    sub.unsubscribe();
  });
});
