import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { from as rxFrom } from 'rxjs/internal/observable/from';
import type { of as rxOf } from 'rxjs/internal/observable/of';

/**
 * @internal modules loaded at their first use rather than when breakwater is imported (start-up cost, see
 * docs/benchmarks.md "Start-up"): users who never use them never pay for them on a cold start. A plain `require`
 * keeps each one module instance with users' own imports (prom-client and, in Node, rxjs are CommonJS, so both
 * resolve to the same files). `import.meta.url` is native when src runs as ESM (tsx/vitest) and shimmed by tsup
 * (`shims: true`) in the CommonJS build.
 */
const load = createRequire(import.meta.url);

let prom: typeof PromClient | undefined;
let rx: { readonly from: typeof rxFrom; readonly of: typeof rxOf } | undefined;

/** @internal prom-client, at the first registerPrometheus, startDashboard or cluster reporter. */
export function promClient(): typeof PromClient {
  return (prom ??= load('prom-client') as typeof PromClient);
}

/** @internal rxjs's `from` and `of` (with their scheduling machinery), at the first decorated call that needs one. */
export function rxjsCreation(): { readonly from: typeof rxFrom; readonly of: typeof rxOf } {
  return (rx ??= {
    from: (load('rxjs/internal/observable/from') as { from: typeof rxFrom }).from,
    of: (load('rxjs/internal/observable/of') as { of: typeof rxOf }).of,
  });
}
