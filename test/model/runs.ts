/**
 * How many fast-check runs each property makes: `BW_PROPERTY_RUNS` when set (`npm run test:long` sets it), else
 * the small default that keeps `npm test` fast. `BW_PROPERTY_SEED` replays a reported failure.
 */
export function propertyRuns(defaultRuns: number): number {
  const fromEnv = Number(process.env.BW_PROPERTY_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : defaultRuns;
}

/** Extra fast-check parameters from the environment (a seed to replay). */
export function propertyParameters(defaultRuns: number): { numRuns: number; seed?: number; endOnFailure: boolean } {
  const seed = Number(process.env.BW_PROPERTY_SEED);
  return { numRuns: propertyRuns(defaultRuns), endOnFailure: false, ...(Number.isInteger(seed) ? { seed } : {}) };
}

/** A vitest timeout (ms) that grows with the run count, so `test:long` is not cut off by the 20 s default. */
export function propertyTimeout(defaultRuns: number, msPerRun = 15): number {
  return Math.max(20_000, propertyRuns(defaultRuns) * msPerRun);
}
