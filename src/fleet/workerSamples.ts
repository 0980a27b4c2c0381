import type { FleetObject, InstanceSample } from './aggregate.js';

/**
 * @internal the cluster primary's latest whole sample of each worker. A worker's sample lists every key it has, so
 * it replaces the previous one whole (one assignment, however many keys: no per-key bookkeeping in the turn the
 * last piece arrives), and a key the worker no longer has (it expired there) leaves with the next sample. Lists
 * are never changed once stored, so an aggregation may walk them over several event-loop turns. Time is passed in,
 * never read.
 */
export class WorkerSamples {
  private readonly latest = new Map<string, { objects: readonly FleetObject[]; atMs: number }>();

  /** Worker `id`'s new whole sample, arrived at `nowMs`. */
  set(id: string, objects: readonly FleetObject[], nowMs: number): void {
    this.latest.set(id, { objects, atMs: nowMs });
  }

  /** Forgets worker `id`. */
  remove(id: string): void {
    this.latest.delete(id);
  }

  /** The workers with a sample, in the order they first sent one. */
  ids(): string[] {
    return [...this.latest.keys()];
  }

  /** When worker `id`'s latest sample arrived, or undefined. */
  lastSeen(id: string): number | undefined {
    return this.latest.get(id)?.atMs;
  }

  /** Every worker's latest sample (the stored lists, not copies). */
  samples(): InstanceSample[] {
    const out: InstanceSample[] = [];
    for (const [id, { objects }] of this.latest) out.push({ id, objects });
    return out;
  }
}
