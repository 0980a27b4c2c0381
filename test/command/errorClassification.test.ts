import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Command, CommandError, HystrixCommand, circuitBreakerFor, command, configure, metricsFor } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

class NotFound extends Error {
  readonly status = 404;
}
class Conflict extends Error {
  readonly status = 409;
}

const rolling = (key: string) => metricsFor(key)!.snapshot().rolling;

describe('ignoreExceptions: errors that are the caller’s, not the dependency’s', () => {
  it('a listed class reaches the caller as itself, with no fallback, as BAD_REQUEST and no health error', async () => {
    const fallback = vi.fn(() => 'fallback');
    const thrown = new NotFound('no such user');
    const c = command({
      key: 'Ignore.Class',
      circuitBreaker: { requestVolumeThreshold: 1, errorThresholdPercentage: 1 },
      ignoreExceptions: [NotFound],
      run: async () => {
        throw thrown;
      },
      fallback,
    });
    for (let i = 0; i < 5; i++) await expect(c.execute()).rejects.toBe(thrown);
    expect(fallback).not.toHaveBeenCalled();
    clock.advance(1000); // past the health snapshot interval: the breaker looks again
    await expect(c.execute()).rejects.toBe(thrown);
    expect(circuitBreakerFor('Ignore.Class')!.state).toBe('CLOSED');
    const s = metricsFor('Ignore.Class')!.snapshot();
    expect(s.rolling.BAD_REQUEST).toBe(6);
    expect(s.rolling.FAILURE).toBe(0);
    expect(s.health.errorCount).toBe(0);
  });

  it('an error of another class is still a FAILURE that goes to the fallback', async () => {
    const c = command({
      key: 'Ignore.Other',
      ignoreExceptions: [NotFound],
      run: async () => {
        throw new Conflict('busy');
      },
      fallback: () => 'fallback',
    });
    await expect(c.execute()).resolves.toBe('fallback');
    expect(rolling('Ignore.Other')).toMatchObject({ FAILURE: 1, FALLBACK_SUCCESS: 1, BAD_REQUEST: 0 });
  });

  it('a predicate decides; one that throws ignores nothing and is reported as a warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const byStatus = command({
        key: 'Ignore.Predicate',
        ignoreExceptions: (error) => (error as { status?: number }).status === 404,
        run: async (status: number) => {
          throw Object.assign(new Error(`status ${status}`), { status });
        },
        fallback: () => 'fallback',
      });
      await expect(byStatus.execute(404)).rejects.toMatchObject({ status: 404 });
      await expect(byStatus.execute(500)).resolves.toBe('fallback');
      expect(rolling('Ignore.Predicate')).toMatchObject({ BAD_REQUEST: 1, FAILURE: 1 });

      const broken = command({
        key: 'Ignore.Broken',
        ignoreExceptions: () => {
          throw new Error('predicate broke');
        },
        run: async () => {
          throw new NotFound('x');
        },
        fallback: () => 'fallback',
      });
      await expect(broken.execute()).resolves.toBe('fallback');
      expect(rolling('Ignore.Broken')).toMatchObject({ FAILURE: 1, FALLBACK_SUCCESS: 1 });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('ignoreExceptions threw: predicate broke'), { code: 'BW_CALLBACK_ERROR' });
      expect(metricsFor('Ignore.Broken')!.snapshot().concurrency.current).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  it('follows configure() for the key, and works on class commands', async () => {
    class Lookup extends Command<string> {
      constructor() {
        super({ key: 'Ignore.Live' });
      }
      protected run(): Promise<string> {
        return Promise.reject(new NotFound('gone'));
      }
      protected override fallback(): string {
        return 'fallback';
      }
    }
    await expect(new Lookup().execute()).resolves.toBe('fallback');
    configure({ commands: { 'Ignore.Live': { ignoreExceptions: [NotFound] } } });
    await expect(new Lookup().execute()).rejects.toBeInstanceOf(NotFound);
    expect(rolling('Ignore.Live')).toMatchObject({ FAILURE: 1, BAD_REQUEST: 1 });
  });

  it('refuses a value that is neither a list of classes nor a function, naming the option and the value', () => {
    expect(() => command({ key: 'Bad1', run: () => 1, ignoreExceptions: 'NotFound' as never })).toThrow(
      /`ignoreExceptions` must be an array of error classes or a function \(error\) => boolean, got "NotFound" \(string\)/,
    );
    expect(() => command({ key: 'Bad2', run: () => 1, ignoreExceptions: [NotFound, 404] as never })).toThrow(/`ignoreExceptions\[1\]` must be an error class/);
    expect(() => configure({ defaults: { unwrapErrors: 'yes' as never } })).toThrow(/`defaults.unwrapErrors` must be a boolean, got "yes"/);
  });
});

describe('unwrapErrors: the caller gets the error run threw', () => {
  it('hands over run’s own error, with the CommandError reachable through CommandError.from', async () => {
    const thrown = new Conflict('busy');
    const c = command({ key: 'Unwrap', unwrapErrors: true, run: async () => Promise.reject(thrown) });
    const error = await c.execute().catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect(Object.keys(thrown)).toEqual(['status']); // the user's error is not modified
    const info = CommandError.from(error)!;
    expect(info).toBeInstanceOf(CommandError);
    expect(info).toMatchObject({ commandKey: 'Unwrap', failureType: 'COMMAND_EXCEPTION', cause: thrown });
    expect(rolling('Unwrap')).toMatchObject({ FAILURE: 1, FALLBACK_MISSING: 1, EXCEPTION_THROWN: 1 });
  });

  it('still gives run’s error when the fallback failed, with the fallback’s error on CommandError.from', async () => {
    const thrown = new Conflict('busy');
    const fallbackError = new Error('cache down too');
    const c = command({
      key: 'Unwrap.FallbackFailed',
      unwrapErrors: true,
      run: async () => Promise.reject(thrown),
      fallback: () => {
        throw fallbackError;
      },
    });
    const error = await c.execute().catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect(CommandError.from(error)!.fallbackError).toBe(fallbackError);
  });

  it('keeps the CommandError where run threw nothing of its own: timeout, short circuit, a thrown string', async () => {
    const slow = command({ key: 'Unwrap.Timeout', unwrapErrors: true, timeout: 100, run: () => new Promise<never>(() => undefined) });
    const pending = slow.execute().catch((e: unknown) => e);
    clock.advance(100);
    expect(await pending).toMatchObject({ failureType: 'TIMEOUT', commandKey: 'Unwrap.Timeout' });

    const open = command({ key: 'Unwrap.Open', unwrapErrors: true, circuitBreaker: { forceOpen: true }, run: () => 1 });
    await expect(open.execute()).rejects.toMatchObject({ failureType: 'SHORT_CIRCUIT' });

    const stringy = command({ key: 'Unwrap.String', unwrapErrors: true, run: () => Promise.reject('just a string') });
    const error = await stringy.execute().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ failureType: 'COMMAND_EXCEPTION', cause: 'just a string' });
  });

  it('is off by default for command() and class commands, and on by default for @HystrixCommand (as Javanica)', async () => {
    const thrown = new Conflict('busy');
    const plain = command({ key: 'Unwrap.Default', run: async () => Promise.reject(thrown) });
    await expect(plain.execute()).rejects.toBeInstanceOf(CommandError);
    expect(CommandError.from(thrown)).toBeUndefined();

    class Client {
      @HystrixCommand()
      async load(): Promise<string> {
        throw thrown;
      }
      @HystrixCommand({ unwrapErrors: false })
      async wrapped(): Promise<string> {
        throw thrown;
      }
    }
    const client = new Client();
    await expect(client.load()).rejects.toBe(thrown);
    expect(CommandError.from(thrown)!.commandKey).toBe('Client.load');
    const wrapped = await client.wrapped().catch((e: unknown) => e);
    expect(wrapped).toBeInstanceOf(CommandError);
    expect(wrapped).toMatchObject({ commandKey: 'Client.wrapped', cause: thrown });
  });

  it('works in sync mode', () => {
    const thrown = new Conflict('busy');
    const c = command({
      key: 'Unwrap.Sync',
      unwrapErrors: true,
      run: (): number => {
        throw thrown;
      },
    });
    expect(() => c.executeSync()).toThrow(thrown);
  });
});
