import type { AdaptiveConfig } from '../../config/options.js';
import { AimdLimit } from './aimd.js';
import { Gradient2Limit } from './gradient2.js';
import type { LimitAlgorithm } from './LimitAlgorithm.js';
import { VegasLimit } from './vegas.js';

/** @internal the algorithm of `config.algorithm`, starting at `initialLimit`. */
export function createLimitAlgorithm(config: AdaptiveConfig): LimitAlgorithm {
  switch (config.algorithm) {
    case 'aimd':
      return new AimdLimit(config);
    case 'vegas':
      return new VegasLimit({ ...config, random: Math.random });
    default:
      return new Gradient2Limit(config);
  }
}
