import { sliceEach, type Done } from '../stream/sampleSlices.js';

/**
 * @internal a stream-frame builder (for `streamSamples`) over a function returning objects: the objects are taken
 * at once, and serialised as `data: {…}\n\n` frames in slices, so a large aggregate does not hold the event loop
 * for the whole serialisation.
 */
export function framesOf(sample: () => readonly object[]): (done: Done<string>) => void {
  return (done) => {
    let objects: readonly object[];
    try {
      objects = sample();
    } catch (error) {
      return done(error);
    }
    const parts: string[] = [];
    sliceEach(
      objects,
      (o) => parts.push(`data: ${JSON.stringify(o)}\n\n`),
      (error) => (error === undefined ? done(undefined, parts.join('')) : done(error)),
    );
  };
}
