import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { promClient } from '../internal/lazyModules.js';

/** @internal characters of text written per event-loop turn at most (each write encodes its text at once); tests lower it. */
export const exposition = { chunk: 1 << 20 };

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** prom-client's `Registry#getMetricsAsString`: public in its code, missing from its types. */
type FamilyText = (metric: unknown) => Promise<string>;

/**
 * @internal answers a scrape with `registry.metrics()`'s exact text, written family by family as each one is
 * ready, in pieces of at most `exposition.chunk` characters on separate event-loop turns, instead of one string
 * joined (and encoded) in a single turn. Every family is asked at once, as prom-client does, so breakwater's
 * families share one read of the keys. A registry speaking OpenMetrics (prom-client rewrites counter names for
 * it) gets `registry.metrics()` in one piece. A failure before the first byte answers 500; after it, the response
 * is destroyed (the scraper sees a cut response, not a partial one taken as whole).
 */
export function writeExposition(registry: Registry, req: IncomingMessage, res: ServerResponse, headers: Readonly<Record<string, string>>, onError: () => void): void {
  const head = (): void => {
    if (!res.headersSent) res.writeHead(200, { ...headers, 'content-type': registry.contentType });
  };
  if (req.method === 'HEAD') {
    // The status and headers of a GET, without paying for a scrape nobody reads.
    head();
    res.end();
    return;
  }
  let started = false;
  const fail = (): void => {
    if (started) res.destroy();
    else onError();
  };
  if (registry.contentType !== promClient().Registry.PROMETHEUS_CONTENT_TYPE) {
    registry.metrics().then((text) => {
      head();
      res.end(text);
    }, fail);
    return;
  }
  const familyText = (registry as unknown as { getMetricsAsString: FamilyText }).getMetricsAsString.bind(registry);
  const texts = registry.getMetricsAsArray().map((metric) => familyText(metric));
  for (const text of texts) text.catch(() => {}); // awaited in order below; a rejection is handled there
  const write = async (): Promise<void> => {
    for (let i = 0; i < texts.length; i++) {
      const text = await texts[i]!;
      if (res.destroyed) return;
      head();
      started = true;
      if (i !== 0) res.write('\n\n');
      for (let at = 0; at < text.length; ) {
        if (at !== 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (res.destroyed) return;
        let end = Math.min(at + exposition.chunk, text.length);
        // Never between the two halves of a surrogate pair: each piece is encoded to UTF-8 on its own.
        if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
        res.write(at === 0 && end === text.length ? text : text.slice(at, end));
        at = end;
      }
    }
    head();
    res.end('\n');
  };
  write().catch(fail);
}
