import { describe, expectTypeOf, it } from 'vitest';
import { command, type ArgsOf, type RunContext, type UntypedRunParameters } from '../../src/index.js';

describe('command() types', () => {
  it('takes the caller arguments from run, without a trailing RunContext', () => {
    expectTypeOf<ArgsOf<(id: string, ctx: RunContext) => void>>().toEqualTypeOf<[id: string]>();
    expectTypeOf<ArgsOf<(id: string, { signal }: RunContext) => void>>().toEqualTypeOf<[id: string]>();
    expectTypeOf<ArgsOf<(id: string) => void>>().toEqualTypeOf<[id: string]>();
    expectTypeOf<ArgsOf<(a: string, b: number) => void>>().toEqualTypeOf<[a: string, b: number]>();
    expectTypeOf<ArgsOf<() => void>>().toEqualTypeOf<[]>();
    // A last parameter declared `unknown` is an argument; an untyped one (any) is the context.
    expectTypeOf<ArgsOf<(value: unknown) => void>>().toEqualTypeOf<[value: unknown]>();
    expectTypeOf<ArgsOf<(id: string, ctx: any) => void>>().toEqualTypeOf<[id: string]>();
  });

  it('types execute, executeSync and the fallback from run', () => {
    const c = command({
      key: 'Types',
      run: async (id: string, { signal }: RunContext) => ({ id, aborted: signal.aborted }),
      fallback: (_error, id) => ({ id, aborted: true }),
    });
    expectTypeOf(c.execute).parameters.toEqualTypeOf<[id: string]>();
    expectTypeOf(c.execute).returns.resolves.toMatchTypeOf<{ id: string; aborted: boolean }>();
    // @ts-expect-error: the argument is a string
    void c.execute(42);
    const sync = command({ key: 'TypesSync', run: (a: number, b: number) => a + b, fallback: () => 'none' as const });
    expectTypeOf(sync.executeSync).returns.toEqualTypeOf<number | 'none'>();
  });

  it('refuses executeSync() on a run typed to return a Promise', () => {
    const asyncRun = command({ key: 'TypesAsync', run: async (id: string) => id });
    const thrower = command({ key: 'TypesThrows', run: (): never => { throw new Error('x'); } });
    const untypedResult = command({ key: 'TypesAny', run: (id: string): any => id });
    const check = (): void => {
      // @ts-expect-error: executeSync() needs a synchronous run; use execute()
      asyncRun.executeSync('1');
      expectTypeOf(thrower.executeSync).returns.toEqualTypeOf<never>();
      void untypedResult.executeSync('1');
    };
    void check;
  });

  it('refuses to guess which untyped run parameter is the context', () => {
    expectTypeOf<ArgsOf<(a: any, b: any) => void>>().toEqualTypeOf<[UntypedRunParameters]>();
    expectTypeOf<ArgsOf<(a: any, b: any, c: any) => void>>().toEqualTypeOf<[UntypedRunParameters]>();
    // one untyped parameter is the context of a command without arguments; a typed first one is an argument
    expectTypeOf<ArgsOf<(ctx: any) => void>>().toEqualTypeOf<[]>();
    expectTypeOf<ArgsOf<(id: string, ctx: any) => void>>().toEqualTypeOf<[id: string]>();
    const untyped = command({ key: 'TypesUntyped', run: async (a, b) => `${String(a)}${String(b)}` });
    const check = (): void => {
      // @ts-expect-error: run's parameters must be typed; `b` would silently be the RunContext
      void untyped.execute(1);
    };
    void check;
  });
});
