import { createHash } from 'node:crypto';
import { pageScript } from './pageScript.js';
import { PAGE_CSS } from './pageStyles.js';

/** @internal one stream the page connects to: a same-origin URL (relative to the page) and a label to show. */
export interface PageStream {
  readonly url: string;
  readonly label: string;
}

/** @internal what the server tells the page. */
export interface PageConfig {
  readonly streams: readonly PageStream[];
  /** Merge each key across the streams (instances of one service) instead of one card per stream and key. */
  readonly aggregate?: boolean;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

let csp: string | undefined;

/**
 * @internal the Content-Security-Policy for the page: nothing from outside the server, the inline script and
 * style allowed by hash only, stream connections to the same origin only.
 */
export function pageCsp(): string {
  csp ??= [
    "default-src 'none'",
    `script-src ${sha256(pageScript())}`,
    `style-src ${sha256(PAGE_CSS)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return csp;
}

const FAVICON =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4ed8"/>' +
      '<path d="M5 20c3-4 6-4 9 0s6 4 9 0 4-3 4-3v8H5z" fill="#fff"/><path d="M5 13c3-4 6-4 9 0s6 4 9 0" stroke="#fff" stroke-width="2.5" fill="none"/></svg>',
  );

const LOGO =
  '<svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="7" fill="#1d4ed8"/>' +
  '<path d="M5 20c3-4 6-4 9 0s6 4 9 0 4-3 4-3v8H5z" fill="#fff"/><path d="M5 13c3-4 6-4 9 0s6 4 9 0" stroke="#fff" stroke-width="2.5" fill="none"/></svg>';

/** JSON safe to embed in a `<script type="application/json">` element. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** @internal the whole page: one HTML document with its CSS and script inline. */
export function renderPage(config: PageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>breakwater dashboard</title>
<link rel="icon" href="${FAVICON}">
<style>${PAGE_CSS}</style>
</head>
<body>
<header class="topbar">
  <h1 class="brand">${LOGO}<span>breakwater</span> <small>circuits &amp; pools</small></h1>
  <ul class="streams" id="streams" aria-label="Streams"></ul>
  <div class="controls">
    <span class="seg-label" id="sort-label">Sort by</span>
    <div class="seg" role="group" aria-labelledby="sort-label">
      <button type="button" data-sort="error" aria-pressed="true">Error %</button>
      <button type="button" data-sort="volume" aria-pressed="false">Volume</button>
      <button type="button" data-sort="name" aria-pressed="false">Name</button>
    </div>
    <label class="sr-only" for="filter">Filter by name or group</label>
    <input class="filter" id="filter" type="search" placeholder="Filter circuits" autocomplete="off">
  </div>
</header>
<main>
  <ul class="problems" id="problems" aria-label="Stream problems" aria-live="polite" hidden></ul>
  <section aria-labelledby="circuits-title">
    <div class="section-head">
      <h2 id="circuits-title">Circuits</h2>
      <span class="summary" id="circuits-summary" aria-live="polite"></span>
    </div>
    <p class="empty" id="circuits-empty">Connecting&hellip;</p>
    <div class="grid" id="circuits"></div>
  </section>
  <section aria-labelledby="pools-title" id="pools-section" hidden>
    <div class="section-head">
      <h2 id="pools-title">Pools</h2>
      <span class="summary" id="pools-summary"></span>
    </div>
    <div class="table-wrap">
      <table>
        <thead>
          <tr><th scope="col">Pool</th><th scope="col">Active</th><th scope="col">Queued</th><th scope="col">Max active</th><th scope="col">Executed</th><th scope="col">Rejected</th><th scope="col">Size</th></tr>
        </thead>
        <tbody id="pool-rows"></tbody>
      </table>
    </div>
  </section>
</main>
<dialog class="details-dialog" id="details" aria-labelledby="details-title">
  <div class="details-head">
    <h2 id="details-title"></h2>
    <button type="button" class="details-close" id="details-close">Close</button>
  </div>
  <div id="details-body"></div>
</dialog>
<footer><span id="updated"></span> &middot; counts cover each command's rolling window; latency is the execution's, in ms</footer>
<script id="bw-config" type="application/json">${embedJson(config)}</script>
<script>${pageScript()}</script>
</body>
</html>
`;
}
