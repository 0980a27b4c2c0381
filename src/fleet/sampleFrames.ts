import { sliceEach, type Done, type SliceOptions } from '../stream/sampleSlices.js';
import { Aggregation, finishKey, type AggregatedKey, type FleetObject, type InstanceSample } from './aggregate.js';

/**
 * @internal a stream-frame builder (for `streamSamples`) over a function returning objects: the objects are taken
 * at once, and serialised as `data: {…}\n\n` frames in slices, so a large aggregate does not hold the event loop
 * for the whole serialisation.
 */
export function framesOf(sample: () => readonly object[]): (done: Done<readonly string[]>) => void {
  return framesOfSliced((done) => {
    let objects: readonly object[];
    try {
      objects = sample();
    } catch (error) {
      return done(error);
    }
    done(undefined, objects);
  });
}

/** @internal {@link framesOf} over a sample that is itself built in slices. */
export function framesOfSliced(build: (done: Done<readonly object[]>) => void): (done: Done<readonly string[]>) => void {
  return (done) =>
    build((error, objects) => {
      if (error !== undefined) return done(error);
      const parts: string[] = [];
      sliceEach(
        objects!,
        (o) => parts.push(`data: ${JSON.stringify(o)}\n\n`),
        (e) => (e === undefined ? done(undefined, parts) : done(e)), // the stream writes them in pieces
      );
    });
}

/**
 * @internal `aggregateSamples(instances)` in event-loop slices (see `sliceEach`): every instance's objects added one
 * at a time, then each key's object made. The same objects in the same order as `aggregateSamples`.
 */
export function aggregateInSlices(instances: readonly InstanceSample[], done: Done<Record<string, unknown>[]>, options?: SliceOptions): void {
  const aggregation = new Aggregation();
  // One flat list, so that one slice budget covers every instance (owners[k] sent objects[k]).
  const objects: FleetObject[] = [];
  const owners: string[] = [];
  for (const instance of instances) {
    for (const object of instance.objects) {
      objects.push(object);
      owners.push(instance.id);
    }
  }
  let k = 0;
  const finishAll = (): void => {
    const out: Record<string, unknown>[] = [];
    sliceEach<AggregatedKey>(
      aggregation.keys(),
      (key) => out.push(finishKey(key)),
      (error) => (error === undefined ? done(undefined, out) : done(error)),
      options,
    );
  };
  sliceEach(
    objects,
    (o) => aggregation.add(owners[k++]!, o),
    (error) => (error === undefined ? finishAll() : done(error)),
    options,
  );
}
