import { describe, expectTypeOf, it } from 'vitest';
import { command, type ArgsOf, type RunContext } from '../../src/index.js';

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
});
