/**
 * @internal the dashboard page's script, inlined into the page as one classic script (ES2017, no modules, no
 * dependencies). It opens one EventSource per configured stream, keeps the latest HystrixCommand and
 * HystrixThreadPool objects plus a short history per circuit, and renders cards and a pool table with DOM APIs
 * only (names are set with textContent, never parsed as HTML).
 *
 * Kept as a raw string (no backticks or `${` inside) so the published package needs no asset copying.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var HISTORY = 60;          // sparkline samples
  var MIN_FRAME = 20;        // the sparkline's narrowest time frame, in samples
  var SAMPLE_MS = 1000;      // one sample per second
  var STALE_MS = 15000;      // dim a card that has not been reported for this long
  var RENDER_MS = 250;       // at most four renders a second
  var STATE_WORDS = { closed: 'Closed', open: 'Open', 'half-open': 'Half-open' };

  var configEl = document.getElementById('bw-config');
  var config = { streams: [] };
  try { config = JSON.parse(configEl.textContent || '{}'); } catch (e) { /* keep defaults */ }
  var streams = Array.isArray(config.streams) ? config.streams : [];
  var multi = streams.length > 1;

  var circuits = new Map();
  var pools = new Map();
  var sortBy = 'error';
  var filterText = '';
  var renderTimer = 0;

  var gridEl = document.getElementById('circuits');
  var circuitsEmpty = document.getElementById('circuits-empty');
  var circuitsSummary = document.getElementById('circuits-summary');
  var poolBody = document.getElementById('pool-rows');
  var poolsSection = document.getElementById('pools-section');
  var poolsSummary = document.getElementById('pools-summary');
  var streamsEl = document.getElementById('streams');
  var updatedEl = document.getElementById('updated');

  // ---------- helpers ----------
  function num(v) {
    var n = typeof v === 'number' ? v : Number(v);
    return isFinite(n) ? n : 0;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function fmtCount(n) {
    n = Math.round(num(n));
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return n.toLocaleString('en-US');
  }
  function fmtRate(n) {
    n = num(n);
    if (n === 0) return '0';
    if (n < 10) return n.toFixed(1);
    return fmtCount(n);
  }
  function fmtMs(n) {
    n = num(n);
    if (n >= 10000) return (n / 1000).toFixed(1) + 's';
    if (n >= 100) return String(Math.round(n));
    if (n >= 10) return n.toFixed(0);
    return n.toFixed(1).replace(/\.0$/, '');
  }
  function pct(obj, key) {
    return obj && typeof obj === 'object' ? num(obj[key]) : 0;
  }

  // ---------- reading stream objects ----------
  function circuitStateOf(d) {
    var s = typeof d.circuitState === 'string' ? d.circuitState.toUpperCase() : '';
    if (s === 'OPEN') return { state: 'open', partial: '' };
    if (s === 'CLOSED') return { state: 'closed', partial: '' };
    if (s === 'HALF_OPEN' || s === 'HALF-OPEN') return { state: 'half-open', partial: '' };
    var open = d.isCircuitBreakerOpen;
    var hosts = Math.max(1, num(d.reportingHosts));
    if (open === true || open === 'true') return { state: 'open', partial: '' };
    if (typeof open === 'number' && open > 0) {
      return { state: 'open', partial: open >= hosts ? '' : open + ' of ' + hosts + ' hosts' };
    }
    return { state: 'closed', partial: '' };
  }

  function readCommand(d) {
    var windowMs = num(d.propertyValue_metricsRollingStatisticalWindowInMilliseconds) || 10000;
    var requests = Math.max(0, num(d.requestCount));
    var st = circuitStateOf(d);
    return {
      name: String(d.name),
      group: d.group === undefined || d.group === null ? '' : String(d.group),
      state: st.state,
      partial: st.partial,
      hosts: Math.max(1, num(d.reportingHosts)),
      requests: requests,
      rate: requests / (windowMs / 1000),
      errorPct: num(d.errorPercentage),
      inFlight: num(d.currentConcurrentExecutionCount),
      success: num(d.rollingCountSuccess),
      failure: num(d.rollingCountFailure),
      timeout: num(d.rollingCountTimeout),
      rejected: num(d.rollingCountThreadPoolRejected) + num(d.rollingCountSemaphoreRejected),
      shortCircuited: num(d.rollingCountShortCircuited),
      fallback: num(d.rollingCountFallbackSuccess),
      fallbackFailed: num(d.rollingCountFallbackFailure) + num(d.rollingCountFallbackRejection),
      fallbackMissing: num(d.rollingCountFallbackMissing),
      rateLimited: d.rollingCountRateLimited === undefined ? -1 : num(d.rollingCountRateLimited),
      p50: pct(d.latencyExecute, '50'),
      p90: pct(d.latencyExecute, '90'),
      p99: pct(d.latencyExecute, '99'),
      mean: num(d.latencyExecute_mean),
      forceOpen: d.propertyValue_circuitBreakerForceOpen === true,
      forceClosed: d.propertyValue_circuitBreakerForceClosed === true,
      breakerDisabled: d.propertyValue_circuitBreakerEnabled === false,
      isolation: d.propertyValue_executionIsolationStrategy === 'THREAD' ? 'pool' : 'semaphore',
      rule: breakerRule(d)
    };
  }

  // the breaker's trip rule in words, when it is not Hystrix's default one (extra propertyValue_circuitBreaker* fields)
  function breakerRule(d) {
    var parts = [];
    if (d.propertyValue_circuitBreakerStrategy === 'consecutive') parts.push('opens after ' + num(d.propertyValue_circuitBreakerConsecutiveFailures) + ' failures in a row');
    if (d.propertyValue_circuitBreakerStrategy === 'countWindow') parts.push('opens at ' + num(d.propertyValue_circuitBreakerErrorThresholdPercentage) + '% errors of the last ' + num(d.propertyValue_circuitBreakerWindowSize) + ' calls');
    if (num(d.propertyValue_circuitBreakerSlowCallDurationInMilliseconds) > 0) parts.push('or ' + num(d.propertyValue_circuitBreakerSlowCallRateThreshold) + '% calls slower than ' + num(d.propertyValue_circuitBreakerSlowCallDurationInMilliseconds) + ' ms');
    var trials = num(d.propertyValue_circuitBreakerHalfOpenSuccessThreshold);
    if (trials > 1 || num(d.propertyValue_circuitBreakerHalfOpenPermittedCalls) > 1) parts.push('closes after ' + trials + ' good trials');
    return parts.join(', ');
  }

  function readPool(d) {
    return {
      name: String(d.name),
      active: num(d.currentActiveCount),
      queued: num(d.currentQueueSize),
      maxActive: num(d.rollingMaxActiveThreads),
      executed: num(d.rollingCountThreadsExecuted),
      rejected: num(d.rollingCountCommandRejections),
      size: num(d.currentCorePoolSize) || num(d.currentMaximumPoolSize),
      hosts: Math.max(1, num(d.reportingHosts))
    };
  }

  function onObject(streamIndex, d) {
    if (!d || typeof d !== 'object') return;
    if (Array.isArray(d)) { for (var i = 0; i < d.length; i++) onObject(streamIndex, d[i]); return; }
    if (d.name === undefined || d.name === null) return;
    var now = performance.now();
    var id = streamIndex + '\u0000' + d.name;
    if (d.type === 'HystrixCommand') {
      var c = circuits.get(id);
      if (!c) {
        c = { id: id, stream: streamIndex, data: null, hist: [], lastSampleAt: -Infinity, seenAt: now, view: null };
        circuits.set(id, c);
      }
      c.data = readCommand(d);
      c.seenAt = now;
      var sample = { rate: c.data.rate, lat: c.data.p90 };
      if (now - c.lastSampleAt >= SAMPLE_MS || c.hist.length === 0) {
        c.hist.push(sample);
        if (c.hist.length > HISTORY) c.hist.shift();
        c.lastSampleAt = now;
      } else {
        c.hist[c.hist.length - 1] = sample;
      }
      scheduleRender();
    } else if (d.type === 'HystrixThreadPool') {
      pools.set(id, { id: id, stream: streamIndex, data: readPool(d), seenAt: now });
      scheduleRender();
    }
  }

  // ---------- connections ----------
  function connect(index) {
    var s = streams[index];
    var badge = el('li', 'conn', s.label || s.url);
    badge.setAttribute('data-status', 'connecting');
    badge.title = 'Stream ' + (s.label || s.url);
    streamsEl.appendChild(badge);
    var source = null;
    function status(kind, word) {
      badge.setAttribute('data-status', kind);
      badge.setAttribute('aria-label', 'Stream ' + (s.label || s.url) + ': ' + word);
    }
    function open() {
      status('connecting', 'connecting');
      source = new EventSource(s.url);
      source.onopen = function () { status('live', 'connected'); };
      source.onmessage = function (ev) {
        var obj;
        try { obj = JSON.parse(ev.data); } catch (e) { return; }
        onObject(index, obj);
      };
      source.onerror = function () {
        if (source.readyState === 2) {
          status('down', 'disconnected, retrying');
          source.close();
          setTimeout(open, 3000);
        } else {
          status('connecting', 'reconnecting');
        }
      };
    }
    open();
  }

  // ---------- cards ----------
  var stateIcons = {
    closed: function () { return svg('circle', { cx: 5, cy: 5, r: 4.5, fill: 'currentColor' }); },
    open: function () { return svg('circle', { cx: 5, cy: 5, r: 3.75, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }); },
    'half-open': function () { return svg('path', { d: 'M5 0.5 A4.5 4.5 0 0 1 5 9.5 Z', fill: 'currentColor' }); }
  };

  var uid = 0;
  function buildCard(c) {
    var id = 'c' + (++uid);
    var root = el('article', 'card');
    root.setAttribute('aria-labelledby', id + '-name');
    var head = el('header', 'card-head');
    var titles = el('div', 'titles');
    var name = el('h3', 'name');
    name.id = id + '-name';
    var group = el('p', 'group');
    titles.appendChild(name);
    titles.appendChild(group);
    var state = el('span', 'state');
    var icon = svg('svg', { viewBox: '0 0 10 10', 'aria-hidden': 'true', focusable: 'false' });
    var stateWord = el('span', 'state-word');
    state.appendChild(icon);
    state.appendChild(stateWord);
    head.appendChild(titles);
    head.appendChild(state);
    root.appendChild(head);

    var kpis = el('div', 'kpis');
    function kpi(label) {
      var k = el('div', 'kpi');
      var v = el('span', 'kpi-value', '0');
      k.appendChild(v);
      k.appendChild(el('span', 'kpi-label', label));
      kpis.appendChild(k);
      return v;
    }
    var rate = kpi('req/s');
    var errors = kpi('errors');
    var inFlight = kpi('in flight');
    root.appendChild(kpis);

    var sparkWrap = el('div', 'spark-wrap');
    var spark = svg('svg', { class: 'spark', viewBox: '0 0 100 40', preserveAspectRatio: 'none', role: 'img' });
    var area = svg('path', { class: 'rate-area', d: '' });
    var rateLine = svg('path', { class: 'rate-line', d: '' });
    var latLine = svg('path', { class: 'lat-line', d: '' });
    spark.appendChild(area);
    spark.appendChild(rateLine);
    spark.appendChild(latLine);
    sparkWrap.appendChild(spark);
    var legend = el('div', 'legend');
    legend.setAttribute('aria-hidden', 'true');
    var lk1 = el('span', 'key');
    lk1.appendChild(el('span', 'swatch'));
    var rateMax = el('span', '', 'req/s');
    lk1.appendChild(rateMax);
    var lk2 = el('span', 'key');
    lk2.appendChild(el('span', 'swatch lat'));
    var latMax = el('span', '', '90th ms');
    lk2.appendChild(latMax);
    legend.appendChild(lk1);
    legend.appendChild(lk2);
    sparkWrap.appendChild(legend);
    root.appendChild(sparkWrap);

    var counts = el('dl', 'counts');
    counts.setAttribute('aria-label', 'Counts in the rolling window');
    function count(cls, label, short) {
      var d = el('div', cls);
      var dt = el('dt');
      if (short) {
        var visible = el('span', '', short);
        visible.setAttribute('aria-hidden', 'true');
        dt.appendChild(visible);
        dt.appendChild(el('span', 'sr-only', label));
        dt.title = label;
      } else {
        dt.textContent = label;
      }
      d.appendChild(dt);
      var v = el('dd', '', '0');
      d.appendChild(v);
      counts.appendChild(d);
      return { box: d, value: v };
    }
    var cSuccess = count('c-success', 'Success');
    var cFailure = count('c-failure', 'Failure');
    var cTimeout = count('c-timeout', 'Timeout');
    var cRejected = count('c-rejected', 'Rejected');
    var cShort = count('c-short', 'Short-circuited', 'Short-circ.');
    var cFallback = count('c-fallback', 'Fallback');
    root.appendChild(counts);

    var latency = el('dl', 'latency');
    latency.setAttribute('aria-label', 'Execution latency in milliseconds');
    function lat(label) {
      var d = el('div');
      d.appendChild(el('dt', '', label));
      var v = el('dd');
      var n = el('span', 'n', '0');
      v.appendChild(n);
      v.appendChild(el('span', 'unit', 'ms'));
      d.appendChild(v);
      latency.appendChild(d);
      return n;
    }
    var l50 = lat('Median');
    var l90 = lat('90th');
    var l99 = lat('99th');
    var lMean = lat('Mean');
    root.appendChild(latency);

    var notes = el('ul', 'notes');
    root.appendChild(notes);

    c.view = {
      root: root, name: name, group: group, state: state, icon: icon, stateWord: stateWord, iconState: '',
      rate: rate, errors: errors, inFlight: inFlight, spark: spark, area: area, rateLine: rateLine, latLine: latLine,
      rateMax: rateMax, latMax: latMax,
      cSuccess: cSuccess, cFailure: cFailure, cTimeout: cTimeout, cRejected: cRejected, cShort: cShort, cFallback: cFallback,
      l50: l50, l90: l90, l99: l99, lMean: lMean, notes: notes, notesKey: ''
    };
  }

  function linePath(values, max, close) {
    var n = values.length;
    if (n === 0) return '';
    // The first samples spread over a 20-sample frame, so a fresh page shows a line rather than a sliver.
    var step = 100 / (Math.max(n, MIN_FRAME) - 1);
    var x0 = 100 - (n - 1) * step;
    var d = '';
    for (var i = 0; i < n; i++) {
      var x = x0 + i * step;
      var y = 39 - (max > 0 ? (values[i] / max) * 31 : 0);
      d += (i === 0 ? 'M' : 'L') + x.toFixed(2) + ' ' + y.toFixed(2);
    }
    if (n === 1) d += 'L100 ' + (39 - (max > 0 ? (values[0] / max) * 31 : 0)).toFixed(2);
    if (close) d += 'L100 40L' + x0.toFixed(2) + ' 40Z';
    return d;
  }

  function updateCard(c, now) {
    var d = c.data;
    var v = c.view;
    setText(v.name, d.name);
    v.name.title = d.name;
    var groupText = d.group ? 'Group ' + d.group : 'No group';
    if (multi) groupText += ' \u00b7 ' + (streams[c.stream].label || streams[c.stream].url);
    if (d.hosts > 1) groupText += ' \u00b7 ' + d.hosts + ' hosts';
    setText(v.group, groupText);

    var word = STATE_WORDS[d.state];
    setText(v.stateWord, word);
    v.state.setAttribute('data-state', d.state);
    v.root.setAttribute('data-state', d.state);
    v.state.setAttribute('aria-label', 'Circuit ' + word + (d.partial ? ' on ' + d.partial : ''));
    if (v.iconState !== d.state) {
      while (v.icon.firstChild) v.icon.removeChild(v.icon.firstChild);
      v.icon.appendChild(stateIcons[d.state]());
      v.iconState = d.state;
    }
    v.root.setAttribute('data-stale', String(now - c.seenAt > STALE_MS));

    setText(v.rate, fmtRate(d.rate));
    setText(v.errors, Math.round(d.errorPct) + '%');
    v.errors.setAttribute('data-level', d.errorPct >= 50 ? 'bad' : d.errorPct >= 10 ? 'warn' : 'ok');
    setText(v.inFlight, fmtCount(d.inFlight));

    setText(v.cSuccess.value, fmtCount(d.success));
    setText(v.cFailure.value, fmtCount(d.failure));
    setText(v.cTimeout.value, fmtCount(d.timeout));
    setText(v.cRejected.value, fmtCount(d.rejected));
    setText(v.cShort.value, fmtCount(d.shortCircuited));
    setText(v.cFallback.value, fmtCount(d.fallback));
    v.cFallback.box.title = 'Fallbacks that gave a value';
    v.cRejected.box.title = d.rateLimited > 0 ? 'Bulkhead rejections; rate-limited calls are listed below' : 'Bulkhead rejections';

    setText(v.l50, fmtMs(d.p50));
    setText(v.l90, fmtMs(d.p90));
    setText(v.l99, fmtMs(d.p99));
    setText(v.lMean, fmtMs(d.mean));

    var rates = c.hist.map(function (h) { return h.rate; });
    var lats = c.hist.map(function (h) { return h.lat; });
    var rMax = Math.max.apply(null, rates.concat([0]));
    var lMax = Math.max.apply(null, lats.concat([0]));
    v.area.setAttribute('d', linePath(rates, rMax, true));
    v.rateLine.setAttribute('d', linePath(rates, rMax, false));
    v.latLine.setAttribute('d', linePath(lats, lMax, false));
    setText(v.rateMax, 'req/s, peak ' + fmtRate(rMax));
    setText(v.latMax, '90th, peak ' + fmtMs(lMax) + ' ms');
    v.spark.setAttribute('aria-label', 'Last ' + c.hist.length + ' seconds: request rate up to ' + fmtRate(rMax) +
      ' per second, 90th percentile latency up to ' + fmtMs(lMax) + ' ms');

    var notes = [];
    if (d.partial) notes.push(['bad', 'open on ' + d.partial]);
    if (d.forceOpen) notes.push(['bad', 'forced open']);
    if (d.forceClosed) notes.push(['', 'forced closed']);
    if (d.breakerDisabled) notes.push(['', 'breaker disabled']);
    if (d.rateLimited > 0) notes.push(['', fmtCount(d.rateLimited) + ' rate-limited']);
    if (d.fallbackFailed > 0) notes.push(['bad', fmtCount(d.fallbackFailed) + ' fallback failed']);
    if (d.fallbackMissing > 0) notes.push(['', fmtCount(d.fallbackMissing) + ' without fallback']);
    if (d.isolation === 'pool') notes.push(['', 'pool isolation']);
    if (d.rule) notes.push(['', 'breaker ' + d.rule]);
    var key = JSON.stringify(notes);
    if (key !== v.notesKey) {
      v.notesKey = key;
      while (v.notes.firstChild) v.notes.removeChild(v.notes.firstChild);
      notes.forEach(function (n) {
        var li = el('li', '', n[1]);
        if (n[0]) li.setAttribute('data-tone', n[0]);
        v.notes.appendChild(li);
      });
    }
  }

  // ---------- sorting ----------
  function byName(a, b) {
    var x = a.data.name.toLowerCase();
    var y = b.data.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }
  var circuitOrders = {
    error: function (a, b) { return (b.data.errorPct - a.data.errorPct) || (b.data.requests - a.data.requests) || byName(a, b); },
    volume: function (a, b) { return (b.data.requests - a.data.requests) || byName(a, b); },
    name: byName
  };
  var poolOrders = {
    error: function (a, b) { return (b.data.rejected - a.data.rejected) || (b.data.executed - a.data.executed) || byName(a, b); },
    volume: function (a, b) { return (b.data.executed - a.data.executed) || byName(a, b); },
    name: byName
  };
  function matches(d) {
    if (!filterText) return true;
    return d.name.toLowerCase().indexOf(filterText) !== -1 || (d.group || '').toLowerCase().indexOf(filterText) !== -1;
  }

  // ---------- render ----------
  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(render, RENDER_MS);
  }

  function render() {
    renderTimer = 0;
    var now = performance.now();
    var list = [];
    circuits.forEach(function (c) { if (matches(c.data)) list.push(c); });
    list.sort(circuitOrders[sortBy]);
    var wanted = [];
    for (var i = 0; i < list.length; i++) {
      var c = list[i];
      if (!c.view) buildCard(c);
      updateCard(c, now);
      wanted.push(c.view.root);
    }
    // Reorder only when the order changed, so focus and hover survive updates.
    var current = Array.prototype.slice.call(gridEl.children);
    var same = current.length === wanted.length && wanted.every(function (n, j) { return current[j] === n; });
    if (!same) {
      current.forEach(function (n) { if (wanted.indexOf(n) === -1) gridEl.removeChild(n); });
      wanted.forEach(function (n) { gridEl.appendChild(n); });
    }
    var open = 0;
    circuits.forEach(function (c) { if (c.data.state !== 'closed') open++; });
    circuitsEmpty.hidden = circuits.size !== 0 && list.length !== 0;
    if (circuits.size !== 0 && list.length === 0) circuitsEmpty.textContent = 'No circuit matches the filter.';
    setText(circuitsSummary, circuits.size === 0 ? '' : circuits.size + (circuits.size === 1 ? ' circuit' : ' circuits') +
      (open ? ', ' + open + ' not closed' : ', all closed'));

    renderPools();
    setText(updatedEl, 'Updated ' + new Date().toLocaleTimeString());
  }

  function cell(tr, text, level, label) {
    var td = el('td', '', text);
    if (level) td.setAttribute('data-level', level);
    if (label) td.setAttribute('aria-label', label);
    tr.appendChild(td);
    return td;
  }

  function renderPools() {
    var list = [];
    pools.forEach(function (p) { if (matches(p.data)) list.push(p); });
    list.sort(poolOrders[sortBy]);
    poolsSection.hidden = pools.size === 0;
    setText(poolsSummary, pools.size === 0 ? '' : pools.size + (pools.size === 1 ? ' pool' : ' pools'));
    var frag = document.createDocumentFragment();
    list.forEach(function (p) {
      var d = p.data;
      var tr = el('tr');
      var nameCell = el('td', '', d.name + (multi ? ' (' + (streams[p.stream].label || streams[p.stream].url) + ')' : ''));
      tr.appendChild(nameCell);
      var activeCell = cell(tr, fmtCount(d.active));
      if (d.size > 0) {
        var bar = el('span', 'bar');
        bar.setAttribute('aria-hidden', 'true');
        var fill = el('span');
        fill.style.width = Math.min(100, (d.active / d.size) * 100).toFixed(0) + '%';
        bar.appendChild(fill);
        activeCell.appendChild(bar);
      }
      cell(tr, fmtCount(d.queued));
      cell(tr, fmtCount(d.maxActive));
      cell(tr, fmtCount(d.executed));
      cell(tr, fmtCount(d.rejected), d.rejected > 0 ? 'bad' : '');
      cell(tr, d.size ? fmtCount(d.size) : '\u2013');
      frag.appendChild(tr);
    });
    while (poolBody.firstChild) poolBody.removeChild(poolBody.firstChild);
    poolBody.appendChild(frag);
  }

  // ---------- controls ----------
  var sortButtons = document.querySelectorAll('[data-sort]');
  Array.prototype.forEach.call(sortButtons, function (b) {
    b.addEventListener('click', function () {
      sortBy = b.getAttribute('data-sort');
      Array.prototype.forEach.call(sortButtons, function (o) { o.setAttribute('aria-pressed', String(o === b)); });
      render();
    });
  });
  var filterEl = document.getElementById('filter');
  filterEl.addEventListener('input', function () {
    filterText = filterEl.value.trim().toLowerCase();
    circuitsEmpty.textContent = 'Waiting for data\u2026';
    render();
  });
  setInterval(scheduleRender, 2000); // keeps staleness current when streams go quiet

  if (streams.length === 0) {
    circuitsEmpty.textContent = 'No stream configured.';
  }
  for (var s = 0; s < streams.length; s++) connect(s);
})();
`;
