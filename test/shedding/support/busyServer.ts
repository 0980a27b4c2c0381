/**
 * A process for loadShedding.process.test.ts: a loopback HTTP server with load shedding on. `/busy?ms=N` keeps
 * its event loop busy in 120 ms chunks until `/idle` is asked for (between chunks), or for N ms at most; `/state` answers `loadSheddingSnapshot()`; `/cmd` runs a sheddable command (body: 'ran' or 'shed'), `/critical` one of priority 'critical'; every
 * other path goes through the HTTP middleware. Prints its port, exits when stdin closes.
 */
import { createServer } from 'node:http';
import { command, configure, loadSheddingMiddleware, loadSheddingSnapshot } from '../../../src/index.js';

configure({ loadShedding: { maxEventLoopDelay: 40, recoverEventLoopDelay: 20, sampleInterval: 50, retryAfter: 2 } });
const work = command({ key: 'Work', sheddable: true, run: async () => 'ran', fallback: () => 'shed' });
const critical = command({ key: 'Critical', priority: 'critical', run: async () => 'ran', fallback: () => 'shed' });
const shed = loadSheddingMiddleware({ filter: (req) => req.url === '/' });

let idle = true;
function busy(untilMs: number): void {
  const chunkEnd = Date.now() + 120;
  while (Date.now() < chunkEnd) {
    // burn the event loop
  }
  if (!idle && Date.now() < untilMs) setImmediate(busy, untilMs);
  else idle = true;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/busy') {
    idle = false;
    setImmediate(busy, Date.now() + Number(url.searchParams.get('ms')));
    res.end('busy');
    return;
  }
  if (url.pathname === '/idle') {
    idle = true;
    res.end('idle');
    return;
  }
  if (url.pathname === '/state') {
    res.end(JSON.stringify(loadSheddingSnapshot()));
    return;
  }
  if (url.pathname === '/cmd' || url.pathname === '/critical') {
    void (url.pathname === '/cmd' ? work : critical).execute().then((v) => res.end(v));
    return;
  }
  if (shed(req, res)) return;
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`port ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
