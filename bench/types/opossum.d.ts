/** The part of opossum 10's API the benchmark uses (opossum ships no types; @types/opossum is not installed). */
declare module 'opossum' {
  interface CircuitBreakerOptions {
    timeout?: number | false;
    errorThresholdPercentage?: number;
    resetTimeout?: number;
    rollingCountTimeout?: number;
    rollingCountBuckets?: number;
    rollingPercentilesEnabled?: boolean;
    enableSnapshots?: boolean;
    volumeThreshold?: number;
    capacity?: number;
  }
  class CircuitBreaker<A extends unknown[] = unknown[], R = unknown> {
    constructor(action: (...args: A) => Promise<R>, options?: CircuitBreakerOptions);
    fire(...args: A): Promise<R>;
    fallback(fn: (...args: unknown[]) => unknown): this;
    open(): void;
    shutdown(): void;
    readonly opened: boolean;
    readonly stats: Record<string, number>;
  }
  export default CircuitBreaker;
}
