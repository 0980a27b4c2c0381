/**
 * A method decorated with `@HystrixCommand` (TC39 decorators; esbuild lowers them for Node 20). The decorator
 * enters an AsyncLocalStorage for `currentExecution()`, which on Node 20 turns on promise hooks for the whole
 * process: from then on every promise is slower, the bare `await fn()` of the same child included — compare its
 * "bare ns" with the other rows'.
 */
import * as bw from '../src/index.js';
import { FALLBACK_VALUE, type Scenario } from './scenario.js';

export const decoratedScenarios: Scenario[] = [
  {
    id: 'breakwater/decorated',
    library: 'breakwater',
    group: 'decorated',
    title: 'decorated method, defaults',
    note: "@HystrixCommand({ fallback: 'fallback' }) on an async method returning 42; the bare await of this child runs with AsyncLocalStorage's promise hooks on",
    ownBaseline: "AsyncLocalStorage's promise hooks slow every await of this process, the bare one included",
    async setup() {
      const { HystrixCommand } = bw;
      class Client {
        @HystrixCommand({ fallback: 'fallback' })
        async get(): Promise<number> {
          return 42;
        }
        fallback(): number {
          return FALLBACK_VALUE;
        }
      }
      const client = new Client();
      return {
        op: { kind: 'async', fn: () => client.get() },
        expect: 42,
        check: () => {
          const m = bw.metricsFor('Client.get');
          return { circuit: bw.circuitBreakerFor('Client.get').state, SUCCESS: m.cumulativeCount('SUCCESS'), FALLBACK_SUCCESS: m.cumulativeCount('FALLBACK_SUCCESS') };
        },
      };
    },
  },
];
