/**
 * The dashboard relay section of the scale benchmark (`npm run bench -- keys proxy`): the relay behind
 * `startDashboard({ streams })` (src/dashboard/streamProxy.ts, on a plain loopback server: startDashboard adds only
 * its page and request guards) relaying a breakwater `hystrix.stream` of N busy keys to its viewers at `/proxy/0`, as a dashboard shows another
 * process's stream. Three processes, so that only the relay's own work is in the measured one: the upstream (a
 * forked worker: N busy keys and `hystrixStreamHandler()` on loopback, one sample per round of traffic), the
 * viewers (another forked worker: stream clients that read and count frames, and one that stops reading), and the
 * relay (this process, the cluster primary). Per round: one sample of the N keys goes from the upstream through the
 * relay to every viewer that reads; the relay's longest event-loop block (with its CPU, as bench/keysPrimary.ts
 * measures) and the bytes it holds for each viewer (`writableLength`, looked at on every turn) are noted. First with
 * one viewer, then with four: three that read and one that does not read at all (its socket paused).
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import * as bw from '../src/index.js';
import { median, type HarnessOptions } from './harness.js';
import { BenchClock, type KeySection } from './keys.js';
import { StreamProxy } from '../src/dashboard/streamProxy.js';
import { longestBlock, maxRss, stopWorkers } from './keysPrimary.js';
import { busyKeys } from './keysStream.js';

const COUNTS = [100, 1000, 10_000] as const;
const ROLE = 'BW_BENCH_PROXY_ROLE';
const UP_READY = 'bench:upstream-ready';
const TRAFFIC = 'bench:traffic';
const OPEN = 'bench:open-viewers';
const OPENED = 'bench:viewers-open';
const COUNT = 'bench:count';
const COUNTED = 'bench:counted';

/** The upstream: N busy keys, their stream on loopback; one interval of traffic (one sample) per cue. */
async function upstreamRole(keys: number): Promise<never> {
  const clock = new BenchClock();
  bw.configure({ clock });
  const traffic = busyKeys(clock, keys);
  traffic();
  const frames = bw.hystrixDashboardSample().length;
  const stream = bw.hystrixStreamHandler({ intervalMs: 500 });
  const server = createServer(stream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (message: { type?: unknown }) => {
    if (message?.type === TRAFFIC) traffic();
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: UP_READY, port: (server.address() as AddressInfo).port, frames });
  return new Promise<never>(() => {});
}

/** A viewer that reads, counting whole `data:` frames. */
interface Reader {
  frames: number;
}

/** The viewers: clients of the relay that read (counting frames) and that do not read; never resolves. */
function viewersRole(): Promise<never> {
  const readers: Reader[] = [];
  const silent: Socket[] = [];
  let lastData = 0;
  const read = (url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const reader: Reader = { frames: 0 };
      readers.push(reader);
      let carry = '';
      const req = request(url, { agent: false }, (res) => {
        resolve();
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => {
          const text = carry + chunk;
          for (let at = text.indexOf('data: '); at >= 0; at = text.indexOf('data: ', at + 6)) reader.frames++;
          carry = text.slice(-5);
          lastData = performance.now();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const stopReading = (port: number, path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.pause();
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        resolve();
      });
      socket.on('error', reject);
      silent.push(socket);
    });
  process.on('message', (message: { type?: unknown; url?: string; port?: number; reading?: number; stopped?: number }) => {
    if (message?.type === OPEN) {
      void (async () => {
        for (let i = 0; i < message.reading!; i++) await read(message.url!);
        for (let i = 0; i < message.stopped!; i++) await stopReading(message.port!, new URL(message.url!).pathname);
        process.send!({ type: OPENED });
      })();
    } else if (message?.type === COUNT) {
      // once no viewer got a byte for 30 ms (what the relay wrote has arrived)
      const answer = (): void => {
        if (performance.now() - lastData < 30) return void setTimeout(answer, 10);
        process.send!({ type: COUNTED, frames: readers.map((r) => r.frames) });
      };
      answer();
    }
  });
  process.on('disconnect', () => process.exit(0));
  return new Promise<never>(() => {});
}

/** The next message of `type` from `worker` (bounded: 120 s). */
function from(worker: Worker, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from the worker in 120 s`)), 120_000);
    const on = (message: { type?: unknown } | null): void => {
      if (message?.type !== type) return;
      worker.off('message', on);
      clearTimeout(timer);
      resolve(message as Record<string, unknown>);
    };
    worker.on('message', on);
  });
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** One configuration's figures: the longest block over its rounds, and the most bytes held for a viewer. */
interface Figures {
  blockMs: number;
  cpuMs: number;
  busiestCpuMs: number;
  relayMs: number;
  readerKb: number;
  silentKb: number;
  /** The most of a sample's frames one reading viewer did not get in a round (skipped while it was behind), %. */
  lostPct: number;
}

const proxy: KeySection = {
  id: 'proxy',
  title:
    "the dashboard's relay (/proxy/0, src/dashboard/streamProxy.ts) of a breakwater stream of N busy keys in another process: one sample per round to 1 viewer, then to 4 (3 that read, 1 that stopped reading); the relay's longest event-loop block over the rounds and the most bytes it held for one viewer",
  counts: COUNTS,
  columns: {
    sampleMb: 'MB per sample',
    blockMs1: '1 viewer: longest block ms',
    cpuMs1: 'its CPU ms',
    busiestCpuMs1: 'most CPU in one gap ms',
    relayMs1: 'sample relayed ms',
    readerKb1: 'KB held for the viewer',
    lostPct1: '% of the sample it missed',
    blockMs4: '4 viewers: longest block ms',
    cpuMs4: 'its CPU ms',
    busiestCpuMs4: 'most CPU in one gap ms',
    relayMs4: 'sample relayed ms',
    readerKb4: 'KB held for a reading viewer',
    lostPct4: '% of the sample a reading viewer missed',
    silentKb4: 'KB held for the viewer that stopped reading',
    peakRssMb: 'relay peak RSS growth MB',
  },
  async measure(keys: number, o: HarnessOptions) {
    if (cluster.isWorker) return process.env[ROLE] === 'upstream' ? upstreamRole(keys) : viewersRole();
    const upstream = cluster.fork({ [ROLE]: 'upstream' });
    const viewers = cluster.fork({ [ROLE]: 'viewers' });
    const { port, frames } = (await from(upstream, UP_READY)) as { port: number; frames: number };
    const relay = new StreamProxy([new URL(`http://127.0.0.1:${port}/hystrix.stream`)], 20);
    // The frames the relay received from the upstream (to know when a round's sample is all in).
    let received = 0;
    const fanOut = (relay as unknown as { fanOut: (r: unknown, chunk: string) => void }).fanOut.bind(relay);
    let carry = '';
    (relay as unknown as { fanOut: (r: unknown, chunk: string) => void }).fanOut = (r, chunk) => {
      const text = carry + chunk;
      for (let at = text.indexOf('data: '); at >= 0; at = text.indexOf('data: ', at + 6)) received++;
      carry = text.slice(-5);
      fanOut(r, chunk);
    };
    const counts = async (): Promise<number[]> => {
      const answer = from(viewers, COUNTED);
      viewers.send({ type: COUNT });
      return (await answer).frames as number[];
    };
    /** The relay's responses to its viewers, in the order they came. */
    const responses: ServerResponse[] = [];
    /** The most bytes each response held after a write (a look per turn misses the peaks within one turn). */
    const held = new Map<ServerResponse, number>();
    const server = createServer((req, res) => {
      responses.push(res);
      held.set(res, 0);
      const write = res.write.bind(res) as (chunk: string) => boolean;
      (res as { write: (chunk: string) => boolean }).write = (chunk) => {
        const ok = write(chunk);
        held.set(res, Math.max(held.get(res)!, res.writableLength));
        return ok;
      };
      relay.handle(0, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relayPort = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${relayPort}/proxy/0`;
    const rssBefore = maxRss();
    let sampleBytes = 0;
    const rounds = keys >= 10_000 ? Math.max(3, o.samples >> 2) : Math.max(5, o.samples >> 1);
    const measureRounds = async (silent: ReadonlySet<ServerResponse>): Promise<Figures> => {
      const f: Figures = { blockMs: 0, cpuMs: 0, busiestCpuMs: 0, relayMs: 0, readerKb: 0, silentKb: 0, lostPct: 0 };
      const relayed: number[] = [];
      let reader = 0;
      let stopped = 0;
      for (const res of responses) held.set(res, 0);
      const look = (): void => {
        for (const res of responses) {
          if (silent.has(res)) stopped = Math.max(stopped, res.writableLength, held.get(res)!);
          else reader = Math.max(reader, res.writableLength, held.get(res)!);
        }
      };
      let lost = 0;
      for (let r = 0; r < 1 + rounds; r++) {
        const before = await counts();
        const target = received + frames;
        const t0 = performance.now();
        const { blockMs, cpuMs, busiestCpuMs } = await longestBlock(async () => {
          upstream.send({ type: TRAFFIC });
          // the whole sample in, and every reading viewer's response drained (bounded: 60 s)
          while (received < target || responses.some((res) => !silent.has(res) && res.writableLength > 0)) {
            if (performance.now() - t0 > 60_000) throw new Error(`the relay got ${received - target + frames} of ${frames} frames in 60 s`);
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        }, look);
        if (r === 0) continue;
        relayed.push(performance.now() - t0);
        const after = await counts();
        for (let i = 0; i < after.length; i++) lost = Math.max(lost, 1 - (after[i]! - (before[i] ?? 0)) / frames);
        if (blockMs > f.blockMs) f.cpuMs = cpuMs;
        f.blockMs = Math.max(f.blockMs, blockMs);
        f.busiestCpuMs = Math.max(f.busiestCpuMs, busiestCpuMs);
      }
      f.relayMs = median(sorted(relayed));
      f.lostPct = lost * 100;
      f.readerKb = reader / 1024;
      f.silentKb = stopped / 1024;
      return f;
    };
    // One viewer.
    viewers.send({ type: OPEN, url, port: relayPort, reading: 1, stopped: 0 });
    await from(viewers, OPENED);
    const sizeBefore = Number(responses[0]!.socket?.bytesWritten ?? 0);
    const one = await measureRounds(new Set());
    sampleBytes = (Number(responses[0]!.socket?.bytesWritten ?? 0) - sizeBefore) / (1 + rounds);
    // Four: two more that read, and one that does not read at all.
    viewers.send({ type: OPEN, url, port: relayPort, reading: 2, stopped: 1 });
    await from(viewers, OPENED);
    while (responses.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    const four = await measureRounds(new Set([responses[3]!]));
    const peakRssMb = (maxRss() - rssBefore) / 2 ** 20;
    relay.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopWorkers([upstream, viewers]);
    return {
      sampleMb: sampleBytes / 1e6,
      blockMs1: one.blockMs,
      cpuMs1: one.cpuMs,
      busiestCpuMs1: one.busiestCpuMs,
      relayMs1: one.relayMs,
      readerKb1: one.readerKb,
      lostPct1: one.lostPct,
      blockMs4: four.blockMs,
      cpuMs4: four.cpuMs,
      busiestCpuMs4: four.busiestCpuMs,
      relayMs4: four.relayMs,
      readerKb4: four.readerKb,
      lostPct4: four.lostPct,
      silentKb4: four.silentKb,
      peakRssMb,
    };
  },
};

/** The relay section, appended to the scale benchmark's list in bench/keys.ts. */
export const proxySections: KeySection[] = [proxy];
