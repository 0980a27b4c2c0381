import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

let loaded: typeof PromClient | undefined;

/**
 * @internal prom-client, loaded at its first use (registerPrometheus, startDashboard, the cluster reporters) rather
 * than when breakwater is imported: it costs tens of milliseconds of start-up that users without Prometheus would
 * pay on every cold start. A plain `require` keeps it one module instance with users' `import 'prom-client'` (its
 * package is CommonJS, so both resolve to the same file). `import.meta.url` is native when src runs as ESM
 * (tsx/vitest) and shimmed by tsup (`shims: true`) in the CommonJS build.
 */
export function promClient(): typeof PromClient {
  return (loaded ??= createRequire(import.meta.url)('prom-client') as typeof PromClient);
}
