import { sliceEach, sliceSteps, type Done, type SliceOptions } from '../stream/sampleSlices.js';
import { PieceJoiner } from '../stream/samplePieces.js';
import { Aggregation, finishKey, type AggregatedKey, type FleetObject, type InstanceSample } from './aggregate.js';

/**
 * @internal a stream-frame builder (for `streamSamples`) over a function returning objects: the objects are taken
 * at once, and serialised as `data: {…}\n\n` frames in slices (joined into pieces as they are made, see
 * `PieceJoiner`), so a large aggregate does not hold the event loop for the whole serialisation.
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
      const joiner = new PieceJoiner();
      sliceEach(
        objects!,
        (o) => joiner.push(frame(o)),
        (e) => (e === undefined ? done(undefined, joiner.pieces()) : done(e)), // the stream writes them in pieces
      );
    });
}

/**
 * @internal `aggregateSamples(instances)` in event-loop slices (see `sliceEach`): every instance's objects added one
 * at a time, then each key's object made. The same objects in the same order as `aggregateSamples`.
 */
export function aggregateInSlices(instances: readonly InstanceSample[], done: Done<Record<string, unknown>[]>, options?: SliceOptions): void {
  const out: Record<string, unknown>[] = [];
  aggregateEach(
    instances,
    (o) => out.push(o),
    (error) => (error === undefined ? done(undefined, out) : done(error)),
    options,
  );
}

/**
 * @internal the stream frames of {@link aggregateInSlices}'s objects, made in the same slices: each key's object is
 * serialised as soon as it is made and its frame joined into a piece as soon as the piece is full, so neither the
 * aggregated objects nor one string per key are kept until the end (at 10,000 keys these were tens of MB that the
 * garbage collector's young-generation collections copied, in pauses of 15–30 ms).
 */
export function aggregateFramesInSlices(instances: readonly InstanceSample[], done: Done<readonly string[]>, options?: SliceOptions): void {
  const joiner = new PieceJoiner();
  aggregateEach(
    instances,
    (o) => joiner.push(frame(o)),
    (error) => (error === undefined ? done(undefined, joiner.pieces()) : done(error)),
    options,
  );
}

/** @internal `o`'s stream frame. */
export const frame = (o: object): string => `data: ${JSON.stringify(o)}\n\n`;

/**
 * Adds every instance's objects, in order, walking the instances' own lists (no flat copy of them all), then hands
 * `visit` each key's finished object; one slice budget covers both.
 */
function aggregateEach(
  instances: readonly InstanceSample[],
  visit: (object: Record<string, unknown>) => void,
  done: Done<void>,
  options?: SliceOptions,
): void {
  const aggregation = new Aggregation();
  let n = 0;
  let objects: Iterator<FleetObject> | undefined;
  /** The next object and the instance it came from (owner undefined: none left). */
  let owner: string | undefined;
  let next: FleetObject | undefined;
  const advance = (): void => {
    while (n < instances.length) {
      objects ??= instances[n]!.objects[Symbol.iterator]();
      const r = objects.next();
      if (r.done !== true) {
        owner = instances[n]!.id;
        next = r.value;
        return;
      }
      objects = undefined;
      n++;
    }
    owner = undefined;
    next = undefined;
  };
  try {
    advance();
  } catch (error) {
    return done(error);
  }
  sliceSteps(
    () => owner !== undefined,
    () => {
      aggregation.add(owner!, next!);
      advance();
    },
    (error) => {
      if (error !== undefined) return done(error);
      sliceEach<AggregatedKey>(aggregation.keys(), (key) => visit(finishKey(key)), done, options);
    },
    options,
  );
}
