import { createRequire } from 'node:module';
import type * as NodeCrypto from 'node:crypto';
import type * as PromClient from 'prom-client';
import type { lastValueFrom as rxLastValueFrom } from 'rxjs/internal/lastValueFrom';
import type { Observable as RxObservable } from 'rxjs/internal/Observable';
import type { from as rxFrom } from 'rxjs/internal/observable/from';
import type { of as rxOf } from 'rxjs/internal/observable/of';
import type { ReplaySubject as RxReplaySubject } from 'rxjs/internal/ReplaySubject';
import type { isObservable as rxIsObservable } from 'rxjs/internal/util/isObservable';

/**
 * @internal modules loaded at their first use rather than when breakwater is imported (start-up cost, see
 * docs/benchmarks.md "Start-up"): users who never use them never pay for them on a cold start. A plain `require`
 * keeps each one module instance with users' own imports (prom-client and, in Node, rxjs are CommonJS, so both
 * resolve to the same files). `import.meta.url` is native when src runs as ESM (tsx/vitest) and shimmed by tsup
 * (`shims: true`) in the CommonJS build.
 */
const load = createRequire(import.meta.url);

let prom: typeof PromClient | undefined;
let crypto: typeof NodeCrypto | undefined;
/** @internal the rxjs parts every observable mode uses. */
export interface RxjsCore {
  readonly Observable: typeof RxObservable;
  readonly ReplaySubject: typeof RxReplaySubject;
  readonly lastValueFrom: typeof rxLastValueFrom;
  readonly isObservable: typeof rxIsObservable;
}

let core: RxjsCore | undefined;
let rx: { readonly from: typeof rxFrom; readonly of: typeof rxOf } | undefined;

/** @internal prom-client, at the first registerPrometheus, startDashboard or cluster reporter. */
export function promClient(): typeof PromClient {
  return (prom ??= load('prom-client') as typeof PromClient);
}

/**
 * @internal node:crypto, at the first shared (store-backed) breaker or limiter and the first Redis script: loading
 * it pulls in Node's stream machinery, which a plain command never needs.
 */
export function nodeCrypto(): typeof NodeCrypto {
  return (crypto ??= load('node:crypto') as typeof NodeCrypto);
}

/**
 * @internal rxjs's Observable core, at the first observable call (toObservable/observe, observable commands,
 * decorated methods, the dashboard stream): the same CommonJS files users' 'rxjs' loads in Node, so one rxjs.
 */
export function rxjsCore(): RxjsCore {
  return (core ??= {
    Observable: (load('rxjs/internal/Observable') as { Observable: typeof RxObservable }).Observable,
    ReplaySubject: (load('rxjs/internal/ReplaySubject') as { ReplaySubject: typeof RxReplaySubject }).ReplaySubject,
    lastValueFrom: (load('rxjs/internal/lastValueFrom') as { lastValueFrom: typeof rxLastValueFrom }).lastValueFrom,
    isObservable: (load('rxjs/internal/util/isObservable') as { isObservable: typeof rxIsObservable }).isObservable,
  });
}

/** @internal rxjs's `from` and `of` (with their scheduling machinery), at the first decorated call that needs one. */
export function rxjsCreation(): { readonly from: typeof rxFrom; readonly of: typeof rxOf } {
  return (rx ??= {
    from: (load('rxjs/internal/observable/from') as { from: typeof rxFrom }).from,
    of: (load('rxjs/internal/observable/of') as { of: typeof rxOf }).of,
  });
}
