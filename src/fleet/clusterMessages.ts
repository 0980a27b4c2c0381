import type { FleetObject } from './aggregate.js';

/** @internal the `type` of the IPC message a worker sends its primary every interval. */
export const CLUSTER_SAMPLE_MESSAGE = 'breakwater:sample';

/** @internal one worker's sample, as sent over IPC. */
export interface ClusterSampleMessage {
  readonly type: typeof CLUSTER_SAMPLE_MESSAGE;
  readonly objects: readonly FleetObject[];
}

/** @internal whether an IPC message is a breakwater sample (other libraries share the channel). */
export function isClusterSample(message: unknown): message is ClusterSampleMessage {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return m.type === CLUSTER_SAMPLE_MESSAGE && Array.isArray(m.objects) && m.objects.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o));
}
