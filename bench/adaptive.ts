/**
 * `npm run bench:adaptive`: the adaptive-concurrency measurement (bench/adaptiveSimulation.ts, deterministic on a
 * FakeClock, so any machine prints the same figures). Prints the tables of docs/benchmarks.md's "Adaptive
 * concurrency" section; `--chart` also writes docs/adaptive-chart.svg (the limit over time).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPACITY, latencyChange, limitAt, OVERLOAD, runAll, UNLOADED_MS } from './adaptiveScenarios.js';
import { limitPercentile, type SimulationResult } from './adaptiveSimulation.js';

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

/** A small line chart of the limit over time: one polyline per run. */
function chart(panels: readonly { title: string; runs: readonly SimulationResult[] }[]): string {
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#ff7f0e', '#7f7f7f'];
  const w = 520;
  const h = 220;
  const pad = 40;
  const yMax = 120;
  const parts: string[] = [];
  panels.forEach((panel, p) => {
    const x0 = p * (w + 20);
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
      parts.push(`<text x="${x0 + pad + 6}" y="${32 + i * 13}" font-size="10" fill="${colours[i % colours.length]}">${r.name}</text>`);
    });
  });
  const width = panels.length * (w + 20);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="sans-serif" role="img" aria-label="Adaptive concurrency limits over time against a dependency of capacity 20 (dashed line)">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}

const overload = await runAll(OVERLOAD);
const changes = await runAll(
  (['gradient2', 'vegas', 'aimd'] as const).flatMap((a) => [latencyChange(a, 'step'), latencyChange(a, 'ramp')]),
);
console.log(`## Steady overload: capacity ${CAPACITY}, ${UNLOADED_MS} ms unloaded, offered 2 calls/ms (twice its throughput), 30 s\n`);
console.log(overloadTable(overload));
console.log('\n## Latency change at 0.5 calls/ms: 20 → 80 ms work as a step at 10 s, or a ramp from 10 s to 30 s\n');
console.log(changeTable(changes));
if (process.argv.includes('--chart')) {
  const svg = chart([
    { title: 'Steady 2× overload: limit over time', runs: overload.filter((r) => r.name !== 'semaphore 20 (hand-sized)') },
    { title: 'Latency step and ramp at 10 s', runs: changes.filter((r) => !r.name.startsWith('aimd')) },
  ]);
  writeFileSync(join(ROOT, 'docs', 'adaptive-chart.svg'), svg);
  console.log('\nwrote docs/adaptive-chart.svg');
}
