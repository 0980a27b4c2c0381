/**
 * `npm run bench:adaptive`: the adaptive-concurrency measurement (bench/adaptiveSimulation.ts, deterministic on a
 * FakeClock, so any machine prints the same figures). Prints the tables of docs/benchmarks.md's "Adaptive
 * concurrency" section; `--chart` also writes docs/adaptive-chart.svg (the limit over time).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPACITY, latencyChange, limitAt, OVERLOAD, runAll, TOO_BIG, TOO_SMALL, UNLOADED_MS } from './adaptiveScenarios.js';
import { bandReachedBy, latencyPercentile, limitPercentile, servedPerMs, windowedLimits, type SimulationResult } from './adaptiveSimulation.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function overloadTable(results: readonly SimulationResult[]): string {
  const rows = results.map((r) => {
    const limits = `${limitPercentile(r, 10, 10_000)} / ${limitPercentile(r, 50, 10_000)} / ${limitPercentile(r, 90, 10_000)}`;
    return `| ${r.name} | ${limits} | ${r.p50} | ${r.p99} (${(r.p99 / UNLOADED_MS).toFixed(1)}×) | ${r.goodputPerMs.toFixed(2)} | ${(r.rejected * 100).toFixed(0)} % |`;
  });
  return [
    '| Bulkhead | limit p10 / p50 / p90 | latency p50 (ms) | latency p99 (ms, × unloaded) | served per ms (max 1) | rejected |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function changeTable(results: readonly SimulationResult[]): string {
  const at = [9_900, 10_500, 12_000, 20_000, 29_900];
  return [
    `| Algorithm, latency change | ${at.map((t) => `limit at ${t / 1000} s`).join(' | ')} |`,
    `|---|${at.map(() => '---').join('|')}|`,
    ...results.map((r) => `| ${r.name} | ${at.map((t) => limitAt(r, t)).join(' | ')} |`),
  ].join('\n');
}

/** Each algorithm in the scenario it is meant for: the band, when it was reached, p99 over the unloaded latency. */
function claimsTable(overload: readonly SimulationResult[], step: readonly SimulationResult[]): string {
  const find = (list: readonly SimulationResult[], name: string) => list.find((r) => r.name === name)!;
  const windows = (r: SimulationResult) => {
    const w = windowedLimits(r, 2_500);
    const medians = w.map((x) => x.median);
    const means = w.map((x) => x.mean);
    return `${Math.min(...medians)}–${Math.max(...medians)} / ${Math.min(...means).toFixed(0)}–${Math.max(...means).toFixed(0)}`;
  };
  const reached = (r: SimulationResult, stat: 'median' | 'mean', low: number, high: number) => {
    const t = bandReachedBy(r, 2_500, stat, low * CAPACITY, high * CAPACITY);
    return t < 0 ? 'never' : `by ${t / 1000} s`;
  };
  const steadyRow = (name: string, scenario: string) => {
    const r = find(overload, name);
    return `| ${name} | ${scenario} | ${windows(r)} | mean 1–2×: ${reached(r, 'mean', 1, 2)}; median 0.75–2×: ${reached(r, 'median', 0.75, 2)} | ${(latencyPercentile(r, 99, 2_500, 30_000) / UNLOADED_MS).toFixed(1)}× | ${r.goodputPerMs.toFixed(2)} of 1 |`;
  };
  const g2 = find(step, 'gradient2, step');
  const after = [10_300, 10_500, 11_000].map((t) => limitAt(g2, t)).join(' / ');
  return [
    '| Bulkhead | Scenario | 2.5 s windows from 0 s: median / mean limit | band reached (capacity 20) | p99 × unloaded | served per ms |',
    '|---|---|---|---|---|---|',
    steadyRow('vegas', 'steady 2× overload'),
    steadyRow('aimd, timeout 50 ms', 'steady 2× overload, `timeout` = accepted latency'),
    steadyRow('aimd', 'steady 2× overload, default 5 s `timeout`'),
    steadyRow('gradient2', 'steady 2× overload'),
    steadyRow('semaphore 200 (too big)', 'steady 2× overload'),
    steadyRow('semaphore 5 (too small)', 'steady 2× overload'),
    `| gradient2 | step 20 → 80 ms at 10 s | limit ${limitAt(g2, 9_900)} before; ${after} at 10.3 / 10.5 / 11 s; ${limitAt(g2, 20_000)} at 20 s | 0.75–1.25×: by 10.3 s, held to 11 s | ${(latencyPercentile(g2, 99, 10_000, 11_000) / 80).toFixed(1)}× of the new 80 ms (10–11 s) | ${(servedPerMs(g2, 10_000, 11_000) / 0.25).toFixed(2)} of the new 0.25 (done 10–11 s) |`,
    ...[TOO_BIG, TOO_SMALL].map((n) => {
      const r = find(step, `semaphore ${n}, step`);
      return `| semaphore ${n} | step 20 → 80 ms at 10 s | ${n} | — | ${(latencyPercentile(r, 99, 10_000, 11_000) / 80).toFixed(1)}× of the new 80 ms (10–11 s) | ${(servedPerMs(r, 10_000, 11_000) / 0.25).toFixed(2)} of the new 0.25 (done 10–11 s) |`;
    }),
  ].join('\n');
}

/** A small line chart of the limit over time: one polyline per run. */
function chart(panels: readonly { title: string; runs: readonly SimulationResult[] }[]): string {
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#ff7f0e', '#7f7f7f'];
  const w = 520;
  const h = 220;
  const pad = 40;
  const legend = 170; // the names sit right of each plot, not over its lines
  const yMax = 120;
  const parts: string[] = [];
  panels.forEach((panel, p) => {
    const x0 = p * (w + legend + 20);
    const tMax = Math.max(...panel.runs.map((r) => r.limits[r.limits.length - 1]![0]));
    const sx = (t: number) => x0 + pad + ((w - pad - 10) * t) / tMax;
    const sy = (l: number) => h - pad + 10 - ((h - pad - 10) * Math.min(l, yMax)) / yMax;
    parts.push(`<text x="${x0 + pad}" y="14" font-size="12">${panel.title}</text>`);
    parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(tMax)}" y2="${sy(0)}" stroke="#888"/>`);
    parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(0)}" y2="${sy(yMax)}" stroke="#888"/>`);
    for (const y of [0, 20, 40, 80, 120]) parts.push(`<text x="${x0 + 8}" y="${sy(y) + 4}" font-size="10">${y === 120 ? '≥120' : y}</text>`);
    for (let t = 0; t <= tMax; t += 10_000) parts.push(`<text x="${sx(t) - 8}" y="${h - 12}" font-size="10">${t / 1000} s</text>`);
    parts.push(`<line x1="${sx(0)}" y1="${sy(CAPACITY)}" x2="${sx(tMax)}" y2="${sy(CAPACITY)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
    panel.runs.forEach((r, i) => {
      const points = r.limits.map(([t, l]) => `${sx(t).toFixed(1)},${sy(l).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="1.2" points="${points}"/>`);
      parts.push(`<text x="${x0 + w + 4}" y="${32 + i * 13}" font-size="10" fill="${colours[i % colours.length]}">${r.name}</text>`);
    });
  });
  const width = panels.length * (w + legend + 20);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="sans-serif" role="img" aria-label="Adaptive concurrency limits over time against a dependency of capacity 20 (dashed line)">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}

const overload = await runAll(OVERLOAD);
const changes = await runAll(
  (['gradient2', 'vegas', 'aimd'] as const).flatMap((a) => [latencyChange(a, 'step'), latencyChange(a, 'ramp')]),
);
const stepSemaphores = await runAll([latencyChange(TOO_BIG, 'step'), latencyChange(TOO_SMALL, 'step')]);
console.log('## Each algorithm in the scenario it is meant for (asserted in test/bulkhead/adaptiveSimulation.test.ts)\n');
console.log(claimsTable(overload, [...changes, ...stepSemaphores]));
console.log('');
console.log(`## Steady overload: capacity ${CAPACITY}, ${UNLOADED_MS} ms unloaded, offered 2 calls/ms (twice its throughput), 30 s\n`);
console.log(overloadTable(overload));
console.log('\n## Latency change at 0.5 calls/ms: 20 → 80 ms work as a step at 10 s, or a ramp from 10 s to 30 s\n');
console.log(changeTable(changes));
if (process.argv.includes('--chart')) {
  const svg = chart([
    { title: 'Steady 2× overload: limit over time', runs: overload.filter((r) => r.name !== 'semaphore 20 (hand-sized)') },
    { title: 'Latency step and ramp at 10 s', runs: [...changes.filter((r) => !r.name.startsWith('aimd')), ...stepSemaphores] },
  ]);
  writeFileSync(join(ROOT, 'docs', 'adaptive-chart.svg'), svg);
  console.log('\nwrote docs/adaptive-chart.svg');
}
