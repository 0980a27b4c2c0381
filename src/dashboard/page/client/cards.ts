/** One card per circuit: built once, then updated in place (only what changed is written). */
import { el, setAttr, setText, svg } from './dom.js';
import { fmtCount, fmtMs, fmtPct, fmtRate } from './format.js';
import { STATE_WORDS, stateText, type CircuitState, type CommandData } from './model.js';
import { linePath } from './sparkline.js';

/** A sparkline sample. */
export interface Sample {
  readonly rate: number;
  readonly lat: number;
}

/** What a card shows: the (merged) data, its history, where it comes from, and whether it went quiet. */
export interface CardInput {
  readonly data: CommandData;
  readonly hist: readonly Sample[];
  /** The stream's label when the page shows several streams side by side ('' otherwise). */
  readonly source: string;
  readonly stale: boolean;
  /** The page merges several instances: always say how many hosts report the key. */
  readonly fleet: boolean;
}

interface Count {
  readonly box: HTMLElement;
  readonly value: HTMLElement;
}

const stateIcons: Record<CircuitState, () => SVGElement> = {
  closed: () => svg('circle', { cx: 5, cy: 5, r: 4.5, fill: 'currentColor' }),
  open: () => svg('circle', { cx: 5, cy: 5, r: 3.75, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }),
  'half-open': () => svg('path', { d: 'M5 0.5 A4.5 4.5 0 0 1 5 9.5 Z', fill: 'currentColor' }),
};

let uid = 0;

/** A card's DOM and the last values written to it. */
export class Card {
  /** The circuit this card shows now (cards are recycled as the page scrolls). */
  id = '';
  readonly root: HTMLElement;
  /** The button that opens the card's details; `data-card` lets the page find the card from a click. */
  readonly details: HTMLButtonElement;
  private readonly name: HTMLElement;
  private readonly group: HTMLElement;
  private readonly state: HTMLElement;
  private readonly icon: SVGSVGElement;
  private readonly stateWord: HTMLElement;
  private readonly stateHosts: HTMLElement;
  private iconState: CircuitState | '' = '';
  private readonly rate: HTMLElement;
  private readonly errors: HTMLElement;
  private readonly inFlight: HTMLElement;
  private readonly spark: SVGSVGElement;
  private readonly area: SVGPathElement;
  private readonly rateLine: SVGPathElement;
  private readonly latLine: SVGPathElement;
  private readonly rateMax: HTMLElement;
  private readonly latMax: HTMLElement;
  private readonly counts: Record<'success' | 'failure' | 'timeout' | 'rejected' | 'short' | 'fallback', Count>;
  private readonly lat: Record<'p50' | 'p90' | 'p99' | 'mean', HTMLElement>;
  private readonly notes: HTMLElement;
  private notesKey = '';
  private histKey = '';

  constructor() {
    const domId = `c${++uid}`;
    const root = (this.root = el('article', 'card'));
    root.setAttribute('aria-labelledby', `${domId}-name`);
    const head = el('header', 'card-head');
    const titles = el('div', 'titles');
    this.name = el('h3', 'name');
    this.name.id = `${domId}-name`;
    this.group = el('p', 'group');
    titles.append(this.name, this.group);
    this.state = el('span', 'state');
    this.icon = svg('svg', { viewBox: '0 0 10 10', 'aria-hidden': 'true', focusable: 'false' });
    this.stateWord = el('span', 'state-word');
    this.stateHosts = el('span', 'state-hosts');
    this.state.append(this.icon, this.stateWord, this.stateHosts);
    head.append(titles, this.state);
    root.append(head);

    const kpis = el('div', 'kpis');
    const kpi = (label: string): HTMLElement => {
      const k = el('div', 'kpi');
      const v = el('span', 'kpi-value', '0');
      k.append(v, el('span', 'kpi-label', label));
      kpis.append(k);
      return v;
    };
    this.rate = kpi('req/s');
    this.errors = kpi('errors');
    this.inFlight = kpi('in flight');
    root.append(kpis);

    const sparkWrap = el('div', 'spark-wrap');
    this.spark = svg('svg', { class: 'spark', viewBox: '0 0 100 40', preserveAspectRatio: 'none', role: 'img' });
    this.area = svg('path', { class: 'rate-area', d: '' });
    this.rateLine = svg('path', { class: 'rate-line', d: '' });
    this.latLine = svg('path', { class: 'lat-line', d: '' });
    this.spark.append(this.area, this.rateLine, this.latLine);
    const legend = el('div', 'legend');
    legend.setAttribute('aria-hidden', 'true');
    const key = (swatch: string, text: string): HTMLElement => {
      const k = el('span', 'key');
      const label = el('span', '', text);
      k.append(el('span', swatch), label);
      legend.append(k);
      return label;
    };
    this.rateMax = key('swatch', 'req/s');
    this.latMax = key('swatch lat', '90th ms');
    sparkWrap.append(this.spark, legend);
    root.append(sparkWrap);

    const counts = el('dl', 'counts');
    counts.setAttribute('aria-label', 'Counts in the rolling window');
    const count = (cls: string, label: string, short?: string): Count => {
      const box = el('div', cls);
      const dt = el('dt');
      if (short) {
        const visible = el('span', '', short);
        visible.setAttribute('aria-hidden', 'true');
        dt.append(visible, el('span', 'sr-only', label));
        dt.title = label;
      } else {
        dt.textContent = label;
      }
      const value = el('dd', '', '0');
      box.append(dt, value);
      counts.append(box);
      return { box, value };
    };
    this.counts = {
      success: count('c-success', 'Success'),
      failure: count('c-failure', 'Failure'),
      timeout: count('c-timeout', 'Timeout'),
      rejected: count('c-rejected', 'Rejected'),
      short: count('c-short', 'Short-circuited', 'Short-circ.'),
      fallback: count('c-fallback', 'Fallback'),
    };
    this.counts.fallback.box.title = 'Fallbacks that gave a value';
    root.append(counts);

    const latency = el('dl', 'latency');
    latency.setAttribute('aria-label', 'Execution latency in milliseconds');
    const lat = (label: string): HTMLElement => {
      const box = el('div');
      const dd = el('dd');
      const n = el('span', 'n', '0');
      dd.append(n, el('span', 'unit', 'ms'));
      box.append(el('dt', '', label), dd);
      latency.append(box);
      return n;
    };
    this.lat = { p50: lat('Median'), p90: lat('90th'), p99: lat('99th'), mean: lat('Mean') };
    root.append(latency);

    const foot = el('div', 'card-foot');
    this.notes = el('ul', 'notes');
    this.details = el('button', 'details', 'Details');
    this.details.type = 'button';
    this.details.setAttribute('aria-haspopup', 'dialog');
    foot.append(this.notes, this.details);
    root.append(foot);
  }

  /** Gives the card to circuit `id`. */
  bind(id: string): void {
    this.id = id;
    this.details.setAttribute('data-card', id);
  }

  /** Writes `input` into the card; fields that did not change are not touched. */
  update(input: CardInput): void {
    const d = input.data;
    if (this.name.title !== d.name) {
      // Line breaks may fall after the separators of a dotted name (Orders.Create.V2) before anywhere else.
      this.name.replaceChildren(...d.name.split(/(?<=[.:/_-])/).flatMap((part, i) => (i === 0 ? [part] : [el('wbr'), part])));
      this.name.title = d.name;
    }
    let groupText = d.group ? `Group ${d.group}` : 'No group';
    if (input.source) groupText += ` \u00b7 ${input.source}`;
    if (d.hosts > 1 || input.fleet) groupText += ` \u00b7 ${d.hosts} ${d.hosts === 1 ? 'host' : 'hosts'}`;
    setText(this.group, groupText);
    setAttr(this.details, 'aria-label', `Details of ${d.name}`);

    const mixed = d.hosts > 1 && d.openHosts > 0 && d.openHosts < d.hosts;
    setText(this.stateWord, STATE_WORDS[d.state]);
    setText(this.stateHosts, mixed ? ` on ${d.openHosts} of ${d.hosts} hosts` : '');
    setAttr(this.state, 'data-state', d.state);
    setAttr(this.state, 'data-mixed', String(mixed));
    setAttr(this.root, 'data-state', d.state);
    setAttr(this.state, 'aria-label', `Circuit ${stateText(d)}`);
    if (this.iconState !== d.state) {
      this.icon.replaceChildren(stateIcons[d.state]());
      this.iconState = d.state;
    }
    setAttr(this.root, 'data-stale', String(input.stale));

    setText(this.rate, fmtRate(d.rate));
    setText(this.errors, fmtPct(d.errorPct));
    setAttr(this.errors, 'data-level', d.errorPct >= 50 ? 'bad' : d.errorPct >= 10 ? 'warn' : 'ok');
    setText(this.inFlight, fmtCount(d.inFlight));

    setText(this.counts.success.value, fmtCount(d.success));
    setText(this.counts.failure.value, fmtCount(d.failure));
    setText(this.counts.timeout.value, fmtCount(d.timeout));
    setText(this.counts.rejected.value, fmtCount(d.rejected));
    setText(this.counts.short.value, fmtCount(d.shortCircuited));
    setText(this.counts.fallback.value, fmtCount(d.fallback));
    const rejectedTitle = d.rateLimited > 0 ? 'Bulkhead rejections; rate-limited calls are listed below' : 'Bulkhead rejections';
    if (this.counts.rejected.box.title !== rejectedTitle) this.counts.rejected.box.title = rejectedTitle;

    setText(this.lat.p50, fmtMs(d.p50));
    setText(this.lat.p90, fmtMs(d.p90));
    setText(this.lat.p99, fmtMs(d.p99));
    setText(this.lat.mean, fmtMs(d.mean));

    this.updateSparkline(input.hist);
    this.updateNotes(d);
  }

  private updateSparkline(hist: readonly Sample[]): void {
    const rates = hist.map((h) => h.rate);
    const lats = hist.map((h) => h.lat);
    const key = `${rates.join(',')}|${lats.join(',')}`;
    if (key === this.histKey) return;
    this.histKey = key;
    const rMax = Math.max(0, ...rates);
    const lMax = Math.max(0, ...lats);
    this.area.setAttribute('d', linePath(rates, rMax, true));
    this.rateLine.setAttribute('d', linePath(rates, rMax, false));
    this.latLine.setAttribute('d', linePath(lats, lMax, false));
    setText(this.rateMax, `req/s, peak ${fmtRate(rMax)}`);
    setText(this.latMax, `90th, peak ${fmtMs(lMax)} ms`);
    this.spark.setAttribute(
      'aria-label',
      `Last ${hist.length} seconds: request rate up to ${fmtRate(rMax)} per second, 90th percentile latency up to ${fmtMs(lMax)} ms`,
    );
  }

  private updateNotes(d: CommandData): void {
    const notes: [tone: string, text: string][] = [];
    if (d.forceOpen) notes.push(['bad', 'forced open']);
    if (d.forceClosed) notes.push(['', 'forced closed']);
    if (d.breakerDisabled) notes.push(['', 'breaker disabled']);
    if (d.rateLimited > 0) notes.push(['', `${fmtCount(d.rateLimited)} rate-limited`]);
    if (d.loadShed > 0) notes.push(['', `${fmtCount(d.loadShed)} load-shed`]);
    if (d.retries > 0) notes.push(['', `${fmtCount(d.retries)} retried`]);
    if (d.hedges > 0) notes.push(['', `${fmtCount(d.hedges)} hedged`]);
    if (d.fallbackFailed > 0) notes.push(['bad', `${fmtCount(d.fallbackFailed)} fallback failed`]);
    if (d.fallbackMissing > 0) notes.push(['', `${fmtCount(d.fallbackMissing)} without fallback`]);
    if (d.isolation === 'pool') notes.push(['', 'pool isolation']);
    if (d.adaptive) notes.push(['', `adaptive limit ${fmtCount(d.limit)} (${d.adaptive}), ${fmtCount(d.inFlight)} in flight`]);
    if (d.rule) notes.push(['', `breaker ${d.rule}`]);
    const key = notes.map((n) => n.join(':')).join('|');
    if (key === this.notesKey) return;
    this.notesKey = key;
    this.notes.replaceChildren(
      ...notes.map(([tone, text]) => {
        const li = el('li', '', text);
        if (tone) li.setAttribute('data-tone', tone);
        return li;
      }),
    );
    this.notes.title = notes.map((n) => n[1]).join(', ');
  }
}
