/**
 * Runs `work()` while counting the event-loop turns (setImmediate callbacks) that other work got before it
 * settled: a piece of work that never yields lets none through. Counting starts before `work` is called.
 */
export async function countingTurns<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let running = true;
  const count = (): void => {
    if (!running) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  try {
    return { value: await work(), turns };
  } finally {
    running = false;
  }
}
