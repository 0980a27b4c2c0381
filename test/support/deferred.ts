/** A Promise that the test settles by hand (a run or fallback that finishes when the test says so). */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending Promise job run (one turn of the event loop). */
export const flush = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
