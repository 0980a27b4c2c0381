import { aggregateSamples, type FleetObject, type InstanceSample } from './aggregate.js';

interface Entry {
  object: FleetObject;
  atMs: number;
}

interface Instance {
  readonly objects: Map<string, Entry>;
  /** When anything (an object or a heartbeat) last arrived. */
  lastSeenMs: number;
}

/**
 * @internal the latest objects of every instance in a fleet, and their aggregate. Fed by the turbine's upstream
 * connections and by the cluster primary's IPC; time is passed in (`nowMs`), never read. A key an instance has not
 * sent for `staleAfterMs` no longer counts for it; an instance removed (disconnected, dead) stops counting at once.
 */
export class FleetView {
  private readonly instances = new Map<string, Instance>();

  constructor(private readonly staleAfterMs: number) {}

  /** Records one object from instance `id`. */
  accept(id: string, object: FleetObject, nowMs: number): void {
    const instance = this.instanceFor(id, nowMs);
    const type = object.type;
    const name = object.name;
    if (typeof type !== 'string' || typeof name !== 'string') return;
    const key = `${type}\u0000${name}`;
    const entry = instance.objects.get(key);
    if (entry === undefined) instance.objects.set(key, { object, atMs: nowMs });
    else {
      entry.object = object;
      entry.atMs = nowMs;
    }
  }

  /** Notes that instance `id` is alive (a heartbeat) without new objects. */
  touch(id: string, nowMs: number): void {
    this.instanceFor(id, nowMs);
  }

  /** Forgets instance `id` and everything it reported. */
  remove(id: string): void {
    this.instances.delete(id);
  }

  /** Ids of the instances known now. */
  ids(): string[] {
    return [...this.instances.keys()];
  }

  /** When instance `id` last sent anything, or undefined. */
  lastSeen(id: string): number | undefined {
    return this.instances.get(id)?.lastSeenMs;
  }

  /** The current samples (stale keys left out, and pruned). */
  samples(nowMs: number): InstanceSample[] {
    const out: InstanceSample[] = [];
    for (const [id, instance] of this.instances) {
      const objects: FleetObject[] = [];
      for (const [key, entry] of instance.objects) {
        if (nowMs - entry.atMs > this.staleAfterMs) instance.objects.delete(key);
        else objects.push(entry.object);
      }
      out.push({ id, objects });
    }
    return out;
  }

  /** The aggregated objects of every live instance: see {@link aggregateSamples}. */
  aggregate(nowMs: number): Record<string, unknown>[] {
    return aggregateSamples(this.samples(nowMs));
  }

  private instanceFor(id: string, nowMs: number): Instance {
    let instance = this.instances.get(id);
    if (instance === undefined) {
      instance = { objects: new Map(), lastSeenMs: nowMs };
      this.instances.set(id, instance);
    } else instance.lastSeenMs = nowMs;
    return instance;
  }
}
