/**
 * The shared state behind a fleet-wide token bucket: one atomic decision per call (see `redisStore`). The limiter
 * depends only on this interface, so a test can hand it a fake and the Redis code stays in `src/store/`.
 */
export interface BucketStore {
  /** Each store call's own deadline in ms: past it the limiter falls back (see `onStoreUnavailable`). */
  readonly timeout: number;
  /** @internal one atomic decision on the shared bucket `name`. */
  takeTokens(name: string, spec: BucketSpec, request: TokenRequest): Promise<TokenReply>;
}

/** @internal the shared bucket's settings, sent with every decision (the store keeps no configuration). */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly initialTokens: number;
  readonly warmupPeriod: number;
  readonly coldFactor: number;
  /** Tokens the whole fleet may hold in local leases at once; each holder may lease `floor(budget / holders)`. */
  readonly leaseBudget: number;
}

/** @internal one request to the store. */
export interface TokenRequest {
  /** Tokens needed now by queued callers (0 for a lease top-up or a probe): all of them or none. */
  readonly need: number;
  /** Tokens this holder already holds in its lease (the store tops it up to its share, no further). */
  readonly held: number;
  /** Unused leased tokens handed back. */
  readonly giveBack: number;
  /** This process's limiter instance, counted among the holders. */
  readonly holder: string;
}

/** @internal the store's answer. */
export interface TokenReply {
  /** Tokens granted: 0, or `need` plus a lease top-up. */
  readonly granted: number;
  /** When nothing was granted: ms until `need` tokens are due at the current rate. */
  readonly waitMs: number;
  /** Holders seen in the last few seconds (this one included). */
  readonly holders: number;
  /** The lease one holder may hold now (`floor(leaseBudget / holders)`). */
  readonly perHolder: number;
}
