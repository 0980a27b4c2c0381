// Edge cases of @HystrixCommand, written inline with TC39 standard decorators (this file uses the root tsconfig).
// The behaviour shared with legacy decorators is in HystrixCommand.test.ts, against both fixtures.
import { firstValueFrom, isObservable, NEVER, Observable, of, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  BadRequestError,
  command,
  CommandError,
  commandKeys,
  configure,
  currentExecution,
  HystrixCommand,
  metricsFor,
  RequestContext,
  type RunContext,
} from '../../src/index.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { resetBreakwater, useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(() => {
  expect(deadlinesFor(clock).size).toBe(0);
  resetBreakwater();
});

function rolling(key: string): Record<string, number> {
  return Object.fromEntries(Object.entries(metricsFor(key).snapshot().rolling).filter(([, n]) => n !== 0));
}

describe('@HystrixCommand edge cases (TC39)', () => {
  it('serves a first call whose method never ran as both a Promise and an Observable, then learns the mode', async () => {
    class Feed {
      runs = 0;
      @HystrixCommand({ fallback: () => 'cached' })
      latest(): Promise<string> {
        this.runs++;
        return Promise.resolve('fresh');
      }
    }
    const feed = new Feed();
    // Open the circuit before the first call: the method cannot tell its mode on this call.
    configure({ commands: { 'Feed.latest': { circuitBreaker: { forceOpen: true } } } });
    const first = feed.latest() as Promise<string> & Observable<string>;
    expect(isObservable(first)).toBe(true);
    expect(await first).toBe('cached');
    expect(await firstValueFrom(first)).toBe('cached');
    expect(feed.runs).toBe(0);
    configure({ commands: { 'Feed.latest': { circuitBreaker: { forceOpen: false } } } });
    const second = feed.latest();
    expect(second).toBeInstanceOf(Promise);
    expect(await second).toBe('fresh');
    const third = feed.latest();
    expect(isObservable(third)).toBe(false);
    expect(await third).toBe('fresh');
    expect(rolling('Feed.latest')).toMatchObject({ SHORT_CIRCUITED: 1, FALLBACK_SUCCESS: 1, SUCCESS: 2 });
  });

  it('needs a key for a private method, and then runs it', async () => {
    expect(() => {
      class Hidden {
        @HystrixCommand()
        async #secret(): Promise<number> {
          return 1;
        }
        reveal(): Promise<number> {
          return this.#secret();
        }
      }
      return Hidden;
    }).toThrow(/`key` must be set for the private method '#secret'/);

    class Vault {
      constructor(private readonly code: number) {}
      @HystrixCommand({ key: 'Vault.open', fallback: 'closed' })
      async #open(fail: boolean): Promise<number> {
        if (fail) throw new Error('jammed');
        return this.code;
      }
      closed(): number {
        return -this.code;
      }
      open(fail = false): Promise<number> {
        return this.#open(fail);
      }
    }
    const vault = new Vault(7);
    expect(await vault.open()).toBe(7);
    expect(await vault.open(true)).toBe(-7);
    expect(rolling('Vault.open')).toEqual({ SUCCESS: 1, FAILURE: 1, FALLBACK_SUCCESS: 1 });
    expect(metricsFor('Vault.open').snapshot().group).toBe('Vault.open');
  });

  it('keys a symbol-named method by the symbol’s description', async () => {
    const fetchSymbol = Symbol('fetch');
    class Api {
      @HystrixCommand()
      async [fetchSymbol](): Promise<string> {
        return currentExecution()!.commandKey;
      }
    }
    expect(await new Api()[fetchSymbol]()).toBe('Api.[fetch]');
  });

  it('keeps the declaring class when another decorator wraps it, as long as it calls through', async () => {
    function logged<This, A extends unknown[], R>(method: (this: This, ...args: A) => R, _context: ClassMethodDecoratorContext<This>) {
      return function (this: This, ...args: A): R {
        return method.apply(this, args);
      };
    }
    class Outer {
      @logged
      @HystrixCommand()
      async ping(): Promise<string> {
        return currentExecution()!.commandKey;
      }
    }
    class Child extends Outer {}
    // The wrapper found on the prototype is logged's, so the instance's class names the command.
    expect(await new Child().ping()).toBe('Child.ping');
  });

  it('refuses mode: observable on an async method and generator methods when the class is defined', () => {
    expect(() => {
      class C {
        // @ts-expect-error: an async method returns a Promise, not an Observable
        @HystrixCommand({ mode: 'observable' })
        async run(): Promise<Observable<number>> {
          return of(1);
        }
      }
      return C;
    }).toThrow(/`mode` must be 'async' for the async method 'run', got "observable"/);
    expect(() => {
      class C {
        // @ts-expect-error: a generator is neither a Promise nor an Observable
        @HystrixCommand()
        *run(): Generator<number> {
          yield 1;
        }
      }
      return C;
    }).toThrow(/cannot decorate the generator method 'run'/);
  });

  it('refuses an Observable returned in async mode as a bad request', async () => {
    class C {
      @HystrixCommand({ mode: 'async', fallback: () => 'unused' })
      run(): Promise<string> {
        return of('x') as unknown as Promise<string>;
      }
    }
    const error = await new C().run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(/C\.run returned an Observable in 'async' mode; use mode: 'observable'/);
    expect(rolling('C.run')).toEqual({ BAD_REQUEST: 1, EXCEPTION_THROWN: 1 });
  });

  it('refuses a fallback or cache key name that is not a method, at the first call, naming the option', async () => {
    class C {
      notAMethod = 3;
      @HystrixCommand({ cacheKey: 'notAMethod' })
      async run(): Promise<number> {
        return 1;
      }
    }
    expect(() => new C().run()).toThrow(/`cacheKey` must be the name of a method of C \(for C\.run\), got "notAMethod"/);
  });

  it('refuses bad option values when @HystrixCommand(...) is evaluated', () => {
    expect(() => HystrixCommand({ fallback: '' })).toThrow(/`fallback` must be a method name \(non-empty string\) or a function, got ""/);
    expect(() => HystrixCommand({ cacheKey: 42 as unknown as string })).toThrow(/`cacheKey` must be a method name/);
    expect(() => HystrixCommand({ mode: 'eager' as 'async' })).toThrow(/`mode` must be one of 'async', 'sync', 'observable', got "eager"/);
    expect(() => HystrixCommand({ key: '' })).toThrow(/`key` must be a non-empty string/);
    expect(() => HystrixCommand({ circuitBreaker: { sleepWindow: -1 } })).toThrow(/circuitBreaker\.sleepWindow/);
    expect(() => HystrixCommand(null as unknown as undefined)).toThrow(/`options` must be an object/);
  });

  it('refuses a call without `this`', () => {
    class C {
      @HystrixCommand()
      async run(): Promise<number> {
        return 1;
      }
    }
    const detached = new C().run;
    expect(() => detached()).toThrow(/called without `this`/);
  });

  it('reads the options once: changing the object later has no effect', async () => {
    const options = { timeout: 100 as number | false, fallback: (): string => 'late' };
    class C {
      @HystrixCommand(options)
      async run(): Promise<string> {
        await new Promise((resolve) => currentExecution()!.signal.addEventListener('abort', resolve));
        return 'aborted';
      }
    }
    options.timeout = false;
    const pending = new C().run();
    clock.advance(100);
    expect(await pending).toBe('late');
    expect(rolling('C.run')).toEqual({ TIMEOUT: 1, FALLBACK_SUCCESS: 1 });
  });

  it('follows configure() overrides for its key, like any command', async () => {
    class C {
      @HystrixCommand()
      async run(): Promise<number> {
        return 1;
      }
    }
    await new C().run();
    configure({ commands: { 'C.run': { circuitBreaker: { forceOpen: true } } } });
    await expect(new C().run()).rejects.toBeInstanceOf(CommandError);
    expect(rolling('C.run')).toMatchObject({ SUCCESS: 1, SHORT_CIRCUITED: 1 });
  });

  it('shares the request cache of an observable method within a request context', async () => {
    let subscriptions = 0;
    class Stream {
      @HystrixCommand({ cacheKey: (n: number) => n })
      count(n: number): Observable<number> {
        return new Observable<number>((subscriber) => {
          subscriptions++;
          for (let i = 0; i < n; i++) subscriber.next(i);
          subscriber.complete();
        });
      }
    }
    const s = new Stream();
    await RequestContext.run(async () => {
      expect(await firstValueFrom(s.count(2).pipe(toArray()))).toEqual([0, 1]);
      expect(await firstValueFrom(s.count(2).pipe(toArray()))).toEqual([0, 1]);
    });
    expect(subscriptions).toBe(1);
    expect(rolling('Stream.count')).toMatchObject({ SUCCESS: 1, RESPONSE_FROM_CACHE: 1 });
  });

  it('times out an observable method at its deadline, aborting the signal and unsubscribing', async () => {
    let signal: AbortSignal | undefined;
    let unsubscribed = false;
    class Stream {
      @HystrixCommand({ timeout: 50, fallback: () => of('fallback') })
      forever(): Observable<string> {
        signal = currentExecution()!.signal;
        return new Observable<string>(() => () => {
          unsubscribed = true;
        });
      }
    }
    const values = firstValueFrom(new Stream().forever().pipe(toArray()));
    clock.advance(50);
    expect(await values).toEqual(['fallback']);
    expect(signal?.aborted).toBe(true);
    expect(unsubscribed).toBe(true);
    expect(rolling('Stream.forever')).toMatchObject({ TIMEOUT: 1, FALLBACK_SUCCESS: 1 });
  });

  it('takes a fallback that returns a Promise or a plain value in observable mode', async () => {
    class Stream {
      @HystrixCommand({ mode: 'observable', timeout: false, fallback: async () => 'from promise' })
      a(): Observable<string> {
        throw new Error('a');
      }
      @HystrixCommand({ mode: 'observable', timeout: false, fallback: () => 'plain' })
      b(): Observable<string> {
        return NEVER.pipe(() => {
          throw new Error('b');
        });
      }
    }
    const s = new Stream();
    expect(await firstValueFrom(s.a())).toBe('from promise');
    expect(await firstValueFrom(s.b())).toBe('plain');
  });

  it('leaves currentExecution() undefined in command() runs and in fallbacks', async () => {
    const seen: (RunContext | undefined)[] = [];
    const plain = command({
      key: 'Plain',
      run: async () => {
        seen.push(currentExecution());
        return 1;
      },
    });
    await plain.execute();
    class C {
      @HystrixCommand({
        fallback: () => {
          seen.push(currentExecution());
          return 0;
        },
      })
      async run(): Promise<number> {
        throw new Error('x');
      }
    }
    expect(await new C().run()).toBe(0);
    expect(seen).toEqual([undefined, undefined]);
  });

  it('gives currentExecution() only the contract: commandKey and a lazy signal', async () => {
    let context: RunContext | undefined;
    class C {
      @HystrixCommand()
      async run(): Promise<void> {
        context = currentExecution();
      }
    }
    await new C().run();
    expect(Object.keys(context!)).toEqual(['commandKey', 'signal']);
    expect(context!.commandKey).toBe('C.run');
    expect(context!.signal).toBeInstanceOf(AbortSignal);
    expectTypeOf(currentExecution).returns.toEqualTypeOf<RunContext | undefined>();
  });

  it('builds nothing for a class that is never called', () => {
    class C {
      @HystrixCommand()
      async run(): Promise<void> {}
    }
    void C;
    expect(commandKeys()).toEqual([]);
  });
});
