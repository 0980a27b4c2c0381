import { readFileSync } from 'node:fs';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  circuitBreakerFor,
  commandKeys,
  CommandError,
  currentExecution,
  metricsFor,
  RequestContext,
  requestLog,
  TimeoutError,
} from '../../src/index.js';
import { resetBreakwater, useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import * as legacy from '../fixtures/legacy-decorators/services.js';
import * as standard from '../fixtures/standard-decorators/services.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(() => {
  expect(deadlinesFor(clock).size).toBe(0); // no execution left waiting for its deadline
  resetBreakwater();
});

function rolling(key: string): Record<string, number> {
  const snapshot = metricsFor(key)?.snapshot();
  if (snapshot === undefined) throw new Error(`no metrics for ${key}`);
  return Object.fromEntries(Object.entries(snapshot.rolling).filter(([, n]) => n !== 0));
}

function concurrency(key: string): number {
  return metricsFor(key)!.snapshot().concurrency.current;
}

describe('decorator fixtures', () => {
  it('are the same source compiled twice', () => {
    const a = readFileSync(new URL('../fixtures/standard-decorators/services.ts', import.meta.url), 'utf8');
    const b = readFileSync(new URL('../fixtures/legacy-decorators/services.ts', import.meta.url), 'utf8');
    expect(b).toBe(a);
  });

  it('run as TC39 decorators in one and as legacy decorators in the other', () => {
    standard.defineServices();
    legacy.defineServices();
    expect(standard.decoratorCalls.at(-1)).toEqual(['function', 'context:method']);
    expect(legacy.decoratorCalls.at(-1)).toEqual(['object', 'string', 'descriptor']);
  });
});

describe.each([
  ['standard (TC39)', standard, 'standard'],
  ['legacy (experimentalDecorators)', legacy, 'legacy'],
] as const)('@HystrixCommand with %s decorators', (_name, fixture, style) => {
  describe('async methods', () => {
    it('run as a command named ClassName.methodName, grouped by the class, with the caller’s arguments and this', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient('alice');
      expect(await client.getUser('42')).toEqual({ id: '42', name: 'user-42', by: 'alice' });
      expect(client.calls).toEqual(['getUser:42']);
      expect(rolling('UserClient.getUser')).toEqual({ SUCCESS: 1 });
      expect(metricsFor('UserClient.getUser')!.snapshot().group).toBe('UserClient');
      expect(concurrency('UserClient.getUser')).toBe(0);
    });

    it('builds the command on the first call, not when the class is defined', async () => {
      const { UserClient } = fixture.defineServices();
      expect(commandKeys()).not.toContain('UserClient.getUser');
      await new UserClient().getUser('1');
      expect(commandKeys()).toContain('UserClient.getUser');
    });

    it('shares one command between instances, each call keeping its own this', async () => {
      const { UserClient } = fixture.defineServices();
      const [a, b] = [new UserClient('a'), new UserClient('b')];
      const users = await Promise.all([a.getUser('1'), b.getUser('2'), a.getUser('3')]);
      expect(users.map((u) => u.by)).toEqual(['a', 'b', 'a']);
      expect(a.calls).toEqual(['getUser:1', 'getUser:3']);
      expect(b.calls).toEqual(['getUser:2']);
      expect(rolling('UserClient.getUser')).toEqual({ SUCCESS: 3 });
    });

    it('calls the fallback named in the options with this, the error and the arguments', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient('bob');
      expect(await client.getUser('fail')).toEqual({ id: 'fail', name: 'anonymous', by: 'bob' });
      expect(client.calls).toEqual(['getUser:fail', 'getUserFallback:fail:user service down']);
      expect(rolling('UserClient.getUser')).toEqual({ FAILURE: 1, FALLBACK_SUCCESS: 1 });
    });

    it('aborts currentExecution().signal at the timeout and falls back', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      const pending = client.getUser('slow');
      expect(client.lastSignal?.aborted).toBe(false);
      clock.advance(99);
      expect(client.lastSignal?.aborted).toBe(false);
      clock.advance(1);
      expect(await pending).toMatchObject({ name: 'anonymous' });
      expect(client.lastSignal?.aborted).toBe(true);
      expect(client.lastSignal?.reason).toBeInstanceOf(TimeoutError);
      expect(client.calls[1]).toMatch(/^getUserFallback:slow:/);
      expect(rolling('UserClient.getUser')).toEqual({ TIMEOUT: 1, FALLBACK_SUCCESS: 1 });
      await Promise.resolve();
      expect(concurrency('UserClient.getUser')).toBe(0);
    });

    it('gives currentExecution() the running command key, also after awaits and around nested commands', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      expect(currentExecution()).toBeUndefined();
      expect(await client.outer()).toEqual(['UserClient.outer', 'UserClient.getUser', 'UserClient.outer', 'user-nested']);
      expect(currentExecution()).toBeUndefined();
    });

    it('uses the key and group options when given', async () => {
      const { UserClient } = fixture.defineServices();
      expect(await new UserClient().custom()).toBe('Custom.Key');
      expect(metricsFor('Custom.Key')!.snapshot().group).toBe('CustomGroup');
      expect(commandKeys()).not.toContain('UserClient.custom');
    });

    it('gives a caller without a fallback a CommandError naming the command', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      await client.describe(); // builds the command (and its breaker)
      circuitBreakerFor('UserClient.describe')!.forceOpen();
      const error = await client.describe().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect(error).toMatchObject({ commandKey: 'UserClient.describe', failureType: 'SHORT_CIRCUIT' });
      expect(rolling('UserClient.describe')).toEqual({ SUCCESS: 1, SHORT_CIRCUITED: 1, FALLBACK_MISSING: 1, EXCEPTION_THROWN: 1 });
    });

    it('infers async mode for a plain method that returns a Promise', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient('p');
      const first = client.promised('1');
      expect(first).toBeInstanceOf(Promise);
      expect(await first).toBe('p:1');
      const second = client.promised('2');
      expect(second).toBeInstanceOf(Promise);
      expect(await second).toBe('p:2');
      expect(rolling('UserClient.promised')).toMatchObject({ SUCCESS: 2 });
    });
  });

  describe('sync methods', () => {
    it('return their value directly, and fall back to a function option called with this', () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      expect(client.double(21)).toBe(42);
      expect(client.double(-1)).toBe(0);
      expect(client.calls).toEqual(['double:21', 'double:-1', 'doubleFallback:-1']);
      expect(client.lastExecution?.commandKey).toBe('UserClient.double');
      expect(rolling('UserClient.double')).toEqual({ SUCCESS: 1, FAILURE: 1, FALLBACK_SUCCESS: 1 });
      expect(concurrency('UserClient.double')).toBe(0);
    });
  });

  describe('observable methods', () => {
    it('run as an observable command when the method returns an Observable (inferred), eagerly', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      const ticks = client.ticks(3);
      expect(client.calls).toEqual(['ticks:3']); // started at the call, as Javanica's EAGER mode
      expect(await firstValueFrom(ticks.pipe(toArray()))).toEqual([0, 1, 2]);
      expect(client.lastExecution?.commandKey).toBe('UserClient.ticks'); // also inside defer()
      expect(rolling('UserClient.ticks')).toEqual({ EMIT: 3, SUCCESS: 1 });
      expect(await firstValueFrom(client.ticks(2).pipe(toArray()))).toEqual([0, 1]);
      expect(rolling('UserClient.ticks')).toEqual({ EMIT: 5, SUCCESS: 2 });
    });

    it('resume with the fallback Observable after the values already emitted', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      expect(await firstValueFrom(client.brokenTicks().pipe(toArray()))).toEqual([1, -1]);
      expect(client.calls).toEqual(['ticksFallback:stream broke']);
      expect(rolling('UserClient.brokenTicks')).toEqual({ EMIT: 1, FAILURE: 1, FALLBACK_EMIT: 1, FALLBACK_SUCCESS: 1 });
    });

    it("refuse a method with mode: 'observable' that returns something else, at the call, without fallback", async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      const error = await firstValueFrom(client.notObservable()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as Error).message).toMatch(/UserClient\.notObservable has mode 'observable' but returned a Promise/);
      expect(client.calls).toEqual([]);
      expect(rolling('UserClient.notObservable')).toEqual({ BAD_REQUEST: 1, EXCEPTION_THROWN: 1 });
    });
  });

  describe('request cache', () => {
    it('caches by a key method called with this, inside a RequestContext only', async () => {
      const { UserClient } = fixture.defineServices();
      const [a, b] = [new UserClient('a'), new UserClient('b')];
      await RequestContext.run(async () => {
        const first = await a.cachedUser('1');
        expect(await a.cachedUser('1')).toBe(first);
        await b.cachedUser('1'); // another instance: another cache key (`${this.name}:${id}`)
        expect(requestLog().map((entry) => [entry.key, ...entry.events])).toEqual([
          ['UserClient.cachedUser', 'SUCCESS'],
          ['UserClient.cachedUser', 'SUCCESS', 'RESPONSE_FROM_CACHE'],
          ['UserClient.cachedUser', 'SUCCESS'],
        ]);
      });
      await a.cachedUser('1'); // no request context: no cache
      expect(a.calls).toEqual(['cachedUser:1', 'cachedUser:1']);
      expect(b.calls).toEqual(['cachedUser:1']);
      expect(rolling('UserClient.cachedUser')).toEqual({ SUCCESS: 3, RESPONSE_FROM_CACHE: 1 });
    });

    it('caches by a key function called with this and the arguments (sync mode)', () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      RequestContext.run(() => {
        expect([client.cachedSync('x'), client.cachedSync('x'), client.cachedSync('nocache'), client.cachedSync('nocache')]).toEqual(['X', 'X', 'NOCACHE', 'NOCACHE']);
      });
      expect(client.calls).toEqual(['cachedSync:x', 'cachedSync:nocache', 'cachedSync:nocache']);
      expect(rolling('UserClient.cachedSync')).toEqual({ SUCCESS: 3, RESPONSE_FROM_CACHE: 1 });
    });
  });

  describe('classes', () => {
    it('give two decorated methods two commands', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      await client.getUser('1');
      client.double(1);
      expect(commandKeys()).toEqual(expect.arrayContaining(['UserClient.getUser', 'UserClient.double']));
      expect(rolling('UserClient.getUser')).toEqual({ SUCCESS: 1 });
      expect(rolling('UserClient.double')).toEqual({ SUCCESS: 1 });
    });

    it('key a subclass’s decorated method by the subclass, and an inherited one by the class that declares it', async () => {
      const { AdminClient } = fixture.defineServices();
      const admin = new AdminClient('root');
      expect(await admin.ban('eve')).toBe('root banned eve in AdminClient.ban');
      expect(metricsFor('AdminClient.ban')!.snapshot().group).toBe('AdminClient');
      expect(await admin.getUser('7')).toEqual({ id: '7', name: 'user-7', by: 'root' }); // inherited
      expect(rolling('UserClient.getUser')).toEqual({ SUCCESS: 1 });
      expect(await admin.describe()).toBe('admin:root@UserClient.describe'); // undecorated override calling super
      expect(commandKeys()).not.toContain('AdminClient.getUser');
      expect(commandKeys()).not.toContain('AdminClient.describe');
    });

    it('run a decorated override and the decorated super method as two commands', async () => {
      const { AdminClient } = fixture.defineServices();
      const admin = new AdminClient('root');
      expect(await admin.cachedUser('3')).toEqual({ id: '3', name: 'admin-user-3', by: 'root' });
      expect(rolling('AdminClient.cachedUser')).toEqual({ SUCCESS: 1 });
      expect(rolling('UserClient.cachedUser')).toEqual({ SUCCESS: 1 });
    });

    it('decorate static methods with this the class and a static fallback by name', async () => {
      const { UserClient } = fixture.defineServices();
      expect(await UserClient.lookup('1')).toBe('UserClient:1');
      expect(await UserClient.lookup('fail')).toBe('UserClient:fallback:fail');
      expect(rolling('UserClient.lookup')).toEqual({ SUCCESS: 1, FAILURE: 1, FALLBACK_SUCCESS: 1 });
    });

    it('follow resetBreakwater(): the next call builds the command again', async () => {
      const { UserClient } = fixture.defineServices();
      const client = new UserClient();
      await client.getUser('1');
      resetBreakwater();
      clock = useFakeClock();
      expect(commandKeys()).not.toContain('UserClient.getUser');
      await client.getUser('2');
      expect(rolling('UserClient.getUser')).toEqual({ SUCCESS: 1 });
    });

    it('keep the types of decorated methods', () => {
      expect(() => fixture.typeAssertions()).not.toThrow();
    });
  });

  describe('misuse', () => {
    it.each([
      ['field', /decorates methods only; 'value' is a field/],
      ['getter', style === 'legacy' ? /'value' is an accessor/ : /'value' is a getter/],
      ['klass', /decorates methods only; .*a class/],
      ['withoutParentheses', /must be called: write @HystrixCommand\(\)/],
      ['badOption', /`timeout` must be a number of ms between 1 and/],
      ['unknownOption', /`timout` must be one of the known options/],
      ['syncModeOnAsyncMethod', /`mode` must be 'async' for the async method 'run', got "sync"/],
      ['missingStaticFallback', /`fallback` must be the name of a method of Broken \(for Broken\.run\), got "noSuchMethod"/],
      ['fallbackIsItself', /`fallback` must be another method than 'run' itself/],
    ] as const)('refuses %s when the class is defined', (which, message) => {
      expect(() => fixture.misuse[which]()).toThrow(message);
    });

    it(`checks a fallback name ${style === 'legacy' ? 'when the class is defined' : 'at the first call'}`, () => {
      const message = /`fallback` must be the name of a method of Broken \(for Broken\.run\), got "noSuchMethod"/;
      if (style === 'legacy') {
        expect(() => fixture.misuse.missingFallback()).toThrow(message);
      } else {
        const Broken = fixture.misuse.missingFallback();
        const instance = new Broken();
        expect(() => instance.run()).toThrow(message);
        expect(() => instance.run()).toThrow(message); // and keeps refusing; nothing was built
        expect(commandKeys()).not.toContain('Broken.run');
      }
    });

    it('refuses a synchronous method without mode at the call, as a bad request', async () => {
      const Broken = fixture.misuse.syncMethodWithoutMode();
      const result = new Broken().run() as unknown as PromiseLike<unknown>;
      await expect(result).rejects.toThrow(/Broken\.run returned a number, neither a Promise nor an Observable; a synchronous method needs mode: 'sync'/);
      expect(rolling('Broken.run')).toEqual({ BAD_REQUEST: 1, EXCEPTION_THROWN: 1 });
    });
  });
});
