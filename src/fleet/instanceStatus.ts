/** One instance of a fleet as the turbine (or the cluster primary) sees it. */
export interface InstanceStatus {
  /** `host:port/path` of its stream (never credentials or the query), or `worker <id>` in a cluster. */
  readonly id: string;
  /**
   * `up`: objects are arriving and count in the aggregate; `connecting`: a connection is being made (nothing from it
   * counts yet); `down`: the last connection ended (see `reason`) and a reconnect is scheduled.
   */
  readonly state: 'connecting' | 'up' | 'down';
  /** Why the last connection ended: an error code (`ECONNREFUSED`), `HTTP 503`, `silent for 5000 ms`, …; '' if none did. */
  readonly reason: string;
  /** Wall-clock time (epoch ms) the instance entered its current state. */
  readonly since: number;
}

/**
 * The status object a turbine sends after every sample (breakwater's own; the original Hystrix Dashboard ignores
 * types it does not know).
 */
export interface TurbineInstancesJson {
  readonly type: 'TurbineInstances';
  readonly currentTime: number;
  /** Instances whose objects count now (`state: 'up'`). */
  readonly reporting: number;
  readonly instances: readonly InstanceStatus[];
  /** Why discovery failed the last time it ran (a `streams` function that threw, a DNS name that did not resolve). */
  readonly discoveryErrors: readonly string[];
}

/** @internal builds the status object. */
export function instancesObject(instances: readonly InstanceStatus[], currentTime: number, discoveryErrors: readonly string[]): Record<string, unknown> {
  const json: TurbineInstancesJson = {
    type: 'TurbineInstances',
    currentTime: Math.round(currentTime),
    reporting: instances.filter((i) => i.state === 'up').length,
    instances,
    discoveryErrors,
  };
  return json as unknown as Record<string, unknown>;
}
