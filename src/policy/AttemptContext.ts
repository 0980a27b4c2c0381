import type { RunContext } from '../command/executor.js';

/**
 * The {@link RunContext} of one extra attempt (a retry or a hedge): its own `AbortSignal`, created on first read,
 * aborted at the execution's deadline, when the caller cancels, or when the attempt is abandoned (another attempt
 * won, or it failed and a retry replaces it). The first attempt uses the execution itself, so a command without
 * `retry`/`hedge` never builds one.
 *
 * @internal
 */
export class AttemptContext implements RunContext {
  private controller: AbortController | null = null;
  private reason: unknown = undefined;

  constructor(
    readonly commandKey: string,
    /** 2 for the first retry or hedge, and so on. */
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal (now, or when it is first read); the first reason wins. */
  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    if (this.controller !== null) this.controller.abort(reason);
  }
}
