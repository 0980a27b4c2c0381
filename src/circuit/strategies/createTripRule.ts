import type { CircuitBreakerConfig, MetricsConfig } from '../../config/options.js';
import { ConsecutiveRule } from './consecutive.js';
import { CountWindowRule } from './countWindow.js';
import { ErrorPercentageRule } from './errorPercentage.js';
import type { TripRule } from './TripRule.js';

/** @internal the trip rule of `config.strategy`. */
export function createTripRule(config: CircuitBreakerConfig, metrics: MetricsConfig): TripRule {
  switch (config.strategy) {
    case 'consecutive':
      return new ConsecutiveRule(config);
    case 'countWindow':
      return new CountWindowRule(config);
    default:
      return new ErrorPercentageRule(config, metrics);
  }
}

/** @internal whether two configs need different rule objects (counts are kept across unrelated changes). */
export function sameRule(a: CircuitBreakerConfig, b: CircuitBreakerConfig): boolean {
  return (
    a.strategy === b.strategy &&
    a.windowSize === b.windowSize &&
    (a.slowCallDuration === false) === (b.slowCallDuration === false)
  );
}
