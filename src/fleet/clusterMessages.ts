import type { FleetObject } from './aggregate.js';

/**
 * @internal the `type` of the IPC messages that carry a worker's sample to its primary, in pieces. (Earlier builds sent
 * a sample as one message of type `breakwater:sample`, about 2.5 KB per key: 25 MB at 10,000 keys, serialised and
 * parsed in one piece. A primary and workers of builds on either side of that change do not see each other's
 * samples: each side ignores the other's messages.)
 */
export const CLUSTER_SAMPLE_PIECE = 'breakwater:sample-piece';
/** @internal the format of {@link ClusterSamplePiece}; a piece of another version is ignored. */
export const SAMPLE_WIRE_VERSION = 1;
/**
 * @internal objects per piece: about 250 KB of JSON for commands (the `HystrixCommand` object is about 2.5 KB), a
 * millisecond or two to serialise in the worker and to parse in the primary.
 */
export const OBJECTS_PER_PIECE = 100;

/**
 * @internal one piece of one worker's sample: pieces `0…n` of sample number `sample`, sent in order, the last one
 * marked. The primary counts a sample only once its last piece is in and every piece before it arrived in order.
 */
export interface ClusterSamplePiece {
  readonly type: typeof CLUSTER_SAMPLE_PIECE;
  readonly version: typeof SAMPLE_WIRE_VERSION;
  /** The worker's sample number (counts up from 0). */
  readonly sample: number;
  /** This piece's place in the sample, from 0. */
  readonly piece: number;
  readonly last: boolean;
  readonly objects: readonly FleetObject[];
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** @internal whether an IPC message is a piece of a breakwater sample of this format (other libraries share the channel). */
export function isClusterSamplePiece(message: unknown): message is ClusterSamplePiece {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return (
    m.type === CLUSTER_SAMPLE_PIECE &&
    m.version === SAMPLE_WIRE_VERSION &&
    isCount(m.sample) &&
    isCount(m.piece) &&
    typeof m.last === 'boolean' &&
    Array.isArray(m.objects) &&
    m.objects.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o))
  );
}

/**
 * @internal a sample's objects cut into pieces of at most `perPiece` (one empty piece for an empty sample: it still
 * says the worker is alive).
 */
export function samplePieces(sample: number, objects: readonly FleetObject[], perPiece = OBJECTS_PER_PIECE): ClusterSamplePiece[] {
  const pieces: ClusterSamplePiece[] = [];
  for (let from = 0, piece = 0; piece === 0 || from < objects.length; from += perPiece, piece++) {
    const last = from + perPiece >= objects.length;
    pieces.push({ type: CLUSTER_SAMPLE_PIECE, version: SAMPLE_WIRE_VERSION, sample, piece, last, objects: objects.slice(from, from + perPiece) });
  }
  return pieces;
}

/**
 * @internal the primary's side: puts each worker's pieces back together. A sample counts only whole: a piece out of
 * order drops what was gathered of its sample, a new sample begun replaces an unfinished one (whose later pieces are
 * then ignored), and a worker that leaves takes its unfinished sample with it ({@link SampleAssembly.drop}), so a
 * torn sample is never shown.
 */
export class SampleAssembly {
  private readonly pending = new Map<string, { sample: number; next: number; objects: FleetObject[] }>();

  /** Takes worker `id`'s piece: the whole sample's objects when it was its last piece, else null. */
  accept(id: string, piece: ClusterSamplePiece): FleetObject[] | null {
    let gathered = this.pending.get(id);
    if (piece.piece === 0) {
      gathered = { sample: piece.sample, next: 0, objects: [] };
      this.pending.set(id, gathered);
    } else if (gathered === undefined || gathered.sample !== piece.sample) {
      return null; // the rest of a sample already dropped or replaced
    } else if (gathered.next !== piece.piece) {
      this.pending.delete(id); // a piece lost or repeated: this sample cannot be whole
      return null;
    }
    gathered.next++;
    for (const object of piece.objects) gathered.objects.push(object);
    if (!piece.last) return null;
    this.pending.delete(id);
    return gathered.objects;
  }

  /** Forgets worker `id`'s unfinished sample. */
  drop(id: string): void {
    this.pending.delete(id);
  }
}
