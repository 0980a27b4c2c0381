import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunContext } from '../command/executor.js';

/**
 * @internal the execution a decorated method is running in. Only `@HystrixCommand` methods enter it, so plain
 * `command()` runs (which receive their context as an argument) pay nothing for it.
 */
export const executionStorage = new AsyncLocalStorage<RunContext>();

/**
 * The execution a `@HystrixCommand` method is running in: its `commandKey` and its `AbortSignal` (aborted at the
 * deadline or on cancel). A decorated method receives exactly its caller's arguments, so this is how it reaches
 * the signal. It follows `await`s (AsyncLocalStorage); it is `undefined` outside a decorated method's body
 * (including in its fallback and in `command()` runs, which get the context as their last argument).
 *
 * @example
 * ```ts
 * class UserClient {
 *   @HystrixCommand({ timeout: 500 })
 *   async getUser(id: string): Promise<User> {
 *     const { signal } = currentExecution()!;
 *     return (await fetch(`/users/${id}`, { signal })).json();
 *   }
 * }
 * ```
 * @see {@link HystrixCommand}
 */
export function currentExecution(): RunContext | undefined {
  const execution = executionStorage.getStore();
  if (execution === undefined) return undefined;
  // A small view, so callers see only the contract; the signal stays lazy (no AbortController until read).
  return {
    commandKey: execution.commandKey,
    get signal() {
      return execution.signal;
    },
  };
}
