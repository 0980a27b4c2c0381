/** Every scenario, in table order within each library. */
import { breakwaterScenarios } from './breakwater.bench.js';
import { cockatielScenarios } from './cockatiel.bench.js';
import { decoratedScenarios } from './decorated.bench.js';
import { hystrixjsScenarios } from './hystrixjs.bench.js';
import { likeScenarios } from './like.bench.js';
import { opossumScenarios } from './opossum.bench.js';
import type { Scenario } from './scenario.js';

export const scenarios: readonly Scenario[] = [...breakwaterScenarios, ...likeScenarios, ...decoratedScenarios, ...opossumScenarios, ...cockatielScenarios, ...hystrixjsScenarios];
