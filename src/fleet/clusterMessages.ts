import type { Worker } from 'node:cluster';
import { getClock } from '../config/store.js';
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
 * @internal one piece of one worker's sample: pieces `0…n` of sample number `sample`, sent in order (each after the
 * primary acknowledged the one before, see {@link PIECE_ACK}), the last one marked. The primary counts a sample only
 * once its last piece is in and every piece before it arrived in order.
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

/**
 * @internal the primary's word that it has taken one piece of a worker's sample or `/metrics` answer (every piece but
 * the last): the worker sends the next piece only then. Without it a worker fills the channel faster than the
 * primary reads it, and Node reads (and parses) up to 32 × 64 KB of a channel in one event-loop turn.
 */
export const PIECE_ACK = 'breakwater:piece-ack';

/** @internal what a {@link PIECE_ACK} is for: a sample's piece, or a `/metrics` answer's. */
export type PieceKind = 'sample' | 'metrics';

interface PieceAck {
  readonly type: typeof PIECE_ACK;
  readonly of: PieceKind;
  /** The sample number, or the `/metrics` request id. */
  readonly id: number;
  readonly piece: number;
}

/** @internal the primary side: acknowledges piece `piece` of `id` to `worker` (a worker gone meanwhile is ignored). */
export function ackPiece(worker: Worker, of: PieceKind, id: number, piece: number): void {
  const ack: PieceAck = { type: PIECE_ACK, of, id, piece };
  try {
    worker.send(ack);
  } catch {
    // the worker's channel closed: it is exiting
  }
}

/** @internal the worker side: sends one message to the primary; resolves once the channel has taken it. */
export function sendToPrimary(message: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error as Error);
    }
  });
}

/** @internal the worker side: the primary's acknowledgements of one kind of piece, awaited one piece at a time. */
export class PieceAcks {
  private readonly waiting = new Map<string, (acked: boolean) => void>();
  /** Takes one IPC message from the primary (the listener's; anything but an acknowledgement of this kind is ignored). */
  readonly receive = (message: unknown): void => {
    const m = message as Partial<PieceAck> | null;
    if (typeof m !== 'object' || m === null || m.type !== PIECE_ACK || m.of !== this.of) return;
    const key = `${String(m.id)}:${String(m.piece)}`;
    const resolve = this.waiting.get(key);
    if (resolve === undefined) return;
    this.waiting.delete(key);
    resolve(true);
  };

  constructor(private readonly of: PieceKind) {
    process.on('message', this.receive);
  }

  /**
   * Resolves `true` once the primary acknowledges piece `piece` of `id`, `false` after `timeoutMs` on the configured
   * clock (a primary that does not read these pieces, or gave up on them) or on {@link PieceAcks.close}. Call it
   * before sending the piece.
   */
  wait(id: number, piece: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const key = `${id}:${piece}`;
      const timer = getClock().setTimer(() => {
        this.waiting.delete(key);
        resolve(false);
      }, timeoutMs);
      this.waiting.set(key, (acked) => {
        timer.cancel();
        resolve(acked);
      });
    });
  }

  /** Stops listening; every wait resolves `false`. */
  close(): void {
    process.off('message', this.receive);
    for (const resolve of [...this.waiting.values()]) resolve(false);
    this.waiting.clear();
  }
}
