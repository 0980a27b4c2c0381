/**
 * @internal the size (UTF-16 code units, about bytes for the ASCII JSON of the stream) a piece of a sample grows to
 * before it is cut: the stream writes a sample to each client one piece per event-loop turn, so one turn joins and
 * writes about this much per client rather than the whole sample (~29 MB at 10,000 keys).
 */
export const PIECE_CHARS = 256 * 1024;

/**
 * @internal one interval's `data: …\n\n` frames, shared by every client, cut into pieces of whole frames (never
 * inside one) of about {@link PIECE_CHARS}. A piece is joined the first time any client asks for it and kept for the
 * others, so each frame's text is built once per interval, not per client. Once the last piece is joined the frame
 * list is let go.
 */
export class SamplePieces {
  private frames: readonly string[] | null;
  private readonly pieces: string[] = [];
  /** Frames consumed by the pieces joined so far. */
  private consumed = 0;

  constructor(
    frames: readonly string[],
    private readonly pieceChars: number = PIECE_CHARS,
  ) {
    this.frames = frames.length === 0 ? null : frames;
  }

  /** Piece `k` (joined now if no client asked for it yet), or undefined past the last. Ask for them in order. */
  piece(k: number): string | undefined {
    while (this.pieces.length <= k && this.frames !== null) this.cutNext(this.frames);
    return this.pieces[k];
  }

  /** Whether there is a piece `k` (without joining it). */
  has(k: number): boolean {
    return k < this.pieces.length || this.frames !== null;
  }

  private cutNext(frames: readonly string[]): void {
    const from = this.consumed;
    let chars = 0;
    let to = from;
    while (to < frames.length && (to === from || chars + frames[to]!.length <= this.pieceChars)) chars += frames[to++]!.length;
    this.pieces.push(to - from === 1 ? frames[from]! : frames.slice(from, to).join(''));
    this.consumed = to;
    if (to >= frames.length) this.frames = null;
  }
}

/**
 * @internal joins frames into pieces as they are made, by {@link SamplePieces}' rule (whole frames, about
 * {@link PIECE_CHARS} each, a larger frame alone), so a builder hands the stream a few flat pieces rather than one
 * string per key: the frames (and the objects they were made from) are garbage as soon as their piece is joined,
 * instead of living, with the whole sample, until the last client has been written to. At 10,000 keys that is about
 * 30 MB less kept across the garbage collector's young-generation collections per interval.
 */
export class PieceJoiner {
  private readonly done: string[] = [];
  private parts: string[] = [];
  private chars = 0;

  constructor(private readonly pieceChars: number = PIECE_CHARS) {}

  /** Adds the next frame. */
  push(frame: string): void {
    if (this.parts.length > 0 && this.chars + frame.length > this.pieceChars) this.cut();
    this.parts.push(frame);
    this.chars += frame.length;
  }

  /** The pieces (the last one cut now); the joiner is empty afterwards. */
  pieces(): string[] {
    if (this.parts.length > 0) this.cut();
    return this.done.splice(0);
  }

  private cut(): void {
    this.done.push(this.parts.length === 1 ? this.parts[0]! : this.parts.join(''));
    this.parts = [];
    this.chars = 0;
  }
}
