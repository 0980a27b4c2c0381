// The `?delay` bounds of the stream handler, in a module of their own so that the package's entry can export them
// without loading the stream handler itself (it is loaded at the first hystrixStreamHandler(); see
// .config/tsup.config.ts, "rooms").

/** The smallest `?delay` honoured (ms), unless `intervalMs` itself is smaller. */
export const MIN_STREAM_DELAY_MS = 100;
/** The largest `?delay` honoured (ms). */
export const MAX_STREAM_DELAY_MS = 60_000;
