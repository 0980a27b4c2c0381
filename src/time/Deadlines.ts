import { systemClock, type Clock, type TimerHandle } from './Clock.js';

/**
 * Something that can expire: the executor's in-flight execution is its own deadline node, so arming a deadline
 * allocates nothing. The `prev`/`next`/`list` fields belong to {@link Deadlines}; do not touch them.
 */
export interface DeadlineNode {
  /** Absolute monotonic time (ms) at which {@link DeadlineNode.onDeadline} runs. */
  deadlineAt: number;
  /** @internal */ dlPrev: DeadlineNode | null;
  /** @internal */ dlNext: DeadlineNode | null;
  /** @internal */ dlList: DeadlineList | null;
  /** Called once, from the shared timer, when the deadline passes and the node was not removed first. */
  onDeadline(): void;
  /**
   * A caller waits on this node and nothing else may keep the process alive (a retry's backoff): while such a node
   * is armed (with {@link Deadlines.addKeepAlive}) the shared timer is not unref'd, as the rate limiter's and the
   * collapser's timers are not.
   */
  readonly keepAlive?: boolean;
}

/**
 * @internal holds a {@link DeadlineList}'s last node. A long-lived list is an old object and its nodes are young, so
 * storing each new last node into the list itself would be a write barrier with a remembered-set entry per add
 * (about as costly as the rest of an add, docs/benchmarks.md change 23). The list stores it here instead, in a small
 * holder it replaces every {@link RENEW_ADDS} adds: a holder that young is almost always still in the young
 * generation, where a store takes no remembered-set entry; replacing it costs one such entry and 32 bytes.
 */
export class DeadlineTail {
  constructor(public node: DeadlineNode | null) {}
}

/** Adds between two {@link DeadlineTail}s of a list. */
const RENEW_ADDS = 256;

/**
 * @internal a circular doubly linked list of nodes armed with the same delay, hence (almost always) in deadline
 * order. Only its last node is held (the first is the last's `dlNext`), in {@link DeadlineTail}: with one pointer,
 * adding a node is one store of it outside the young nodes and removing the first node (the usual order) is none.
 */
export class DeadlineList {
  last = new DeadlineTail(null);
  /** Adds left before {@link DeadlineList.last} is replaced. */
  renewIn = RENEW_ADDS;

  /** The node with the earliest deadline, or null. */
  get head(): DeadlineNode | null {
    const tail = this.last.node;
    return tail === null ? null : tail.dlNext;
  }

  /** A new holder of the last node (see {@link DeadlineTail}). */
  renew(): DeadlineTail {
    this.renewIn = RENEW_ADDS;
    return (this.last = new DeadlineTail(this.last.node));
  }
}

/**
 * Links `node` in after the node of `tail`'s list that its deadline `at` follows, or first (the clock went back
 * since `tail` was added: walk back from the last node).
 */
function insertEarlier(node: DeadlineNode, tail: DeadlineNode, at: number): void {
  const head = tail.dlNext!;
  let after = tail;
  while (after !== head && after.deadlineAt > at) after = after.dlPrev!;
  // before the first: after the last, which makes it the first (the list's tail stays)
  link(node, after.deadlineAt > at ? tail : after);
}

/** Links `node` in after `after` (both in a circular list). */
function link(node: DeadlineNode, after: DeadlineNode): void {
  const next = after.dlNext!;
  node.dlPrev = after;
  node.dlNext = next;
  next.dlPrev = node;
  after.dlNext = node;
}

/**
 * One shared timer for every deadline in the process (per clock). A deadline is an O(1) append to the list of
 * its delay and an O(1) unlink when the work settles first; the single timer is armed for the earliest head and
 * re-armed only when it fires or when an earlier deadline appears. So a call that succeeds in time starts no
 * timer at all.
 *
 * When the last deadline is removed, the timer is cancelled, except on the system clock: there it is left to
 * expire by itself (it is unref'd, so it keeps no process alive, and it is not re-armed when it finds nothing
 * due). Cancelling it would make every call that runs alone — one request at a time — create and clear a Node
 * timer; left alone, one timer serves every such call within a timeout period.
 */
export class Deadlines {
  private readonly lists = new Map<number, DeadlineList>();
  /** The list last added to: almost every call of a process uses the same few timeouts, so skip the Map. */
  private lastDelay = NaN;
  private lastList: DeadlineList | null = null;
  private timer: TimerHandle | null = null;
  private armedAt = Infinity;
  private active = 0;
  /** Armed nodes with `keepAlive`, and whether the armed timer keeps the process alive. */
  private alive = 0;
  private armedAlive = false;
  private readonly fire = (): void => this.onTimer();
  private readonly keepIdleTimer: boolean;

  /**
   * @param clock - the clock whose timer fires the deadlines (and that lean calls armed here read their end from).
   * @param keepIdleTimer - leave the timer to expire when nothing is armed instead of cancelling it (default: only
   *   for the system clock, whose timers are unref'd).
   */
  constructor(
    readonly clock: Clock,
    keepIdleTimer: boolean = clock === systemClock,
  ) {
    this.keepIdleTimer = keepIdleTimer;
  }

  /** Number of armed deadlines (a leak check for tests). */
  get size(): number {
    return this.active;
  }

  /** Arms `node` to expire `delayMs` after `now`. */
  add(node: DeadlineNode, now: number, delayMs: number): void {
    const at = now + delayMs;
    node.deadlineAt = at;
    const list = delayMs === this.lastDelay ? this.lastList! : this.listOf(delayMs);
    node.dlList = list;
    const last = --list.renewIn === 0 ? list.renew() : list.last;
    const tail = last.node;
    if (tail === null) {
      node.dlPrev = node.dlNext = node;
      last.node = node;
    } else if (tail.deadlineAt <= at) {
      // the usual case (one delay per list, a monotonic clock): the new last node
      link(node, tail);
      last.node = node;
    } else insertEarlier(node, tail, at);
    this.active++;
    if (at < this.armedAt) this.arm(at, now);
  }

  /** The list of `delayMs` (made if there is none), remembered as the last one used. */
  private listOf(delayMs: number): DeadlineList {
    let list = this.lists.get(delayMs);
    if (list === undefined) {
      list = new DeadlineList();
      this.lists.set(delayMs, list);
    }
    this.lastDelay = delayMs;
    this.lastList = list;
    return list;
  }

  /**
   * Arms `node` as {@link Deadlines.add} does, and keeps the process alive until it fires or is removed (a caller
   * waits on it and on nothing else: a retry's backoff). A separate method, so an ordinary deadline pays nothing.
   */
  addKeepAlive(node: DeadlineNode & { readonly keepAlive: true }, now: number, delayMs: number): void {
    this.alive++;
    // re-arm a timer that does not keep the process alive yet (at the same, or this node's earlier, time)
    if (!this.armedAlive && this.timer !== null && now + delayMs >= this.armedAt) this.arm(this.armedAt, now);
    this.add(node, now, delayMs);
  }

  /** Disarms `node` if it is armed; safe to call more than once. */
  remove(node: DeadlineNode): void {
    const list = node.dlList;
    if (list === null) return;
    const next = node.dlNext!;
    const last = list.last;
    if (next === node) last.node = null;
    else {
      const prev = node.dlPrev!;
      prev.dlNext = next;
      next.dlPrev = prev;
      if (last.node === node) last.node = prev;
    }
    node.dlPrev = node.dlNext = null;
    node.dlList = null;
    this.active--;
    // the rest is rare on the system clock (out of line: less for V8 to weigh where it inlines remove)
    if (this.alive !== 0 || !this.keepIdleTimer) this.afterRemove(node);
  }

  /** {@link Deadlines.remove}'s bookkeeping of keepAlive nodes, and of a timer that is dropped when nothing is armed. */
  private afterRemove(node: DeadlineNode): void {
    if (this.alive !== 0 && node.keepAlive === true) this.alive--;
    if (!this.keepIdleTimer && this.active === 0 && this.timer !== null) this.dropTimer();
  }

  /** Nothing left to watch: drop the timer so an idle process holds no pending timer. */
  private dropTimer(): void {
    this.timer!.cancel();
    this.timer = null;
    this.armedAt = Infinity;
    this.armedAlive = false;
  }

  private arm(at: number, now: number): void {
    if (this.timer !== null) this.timer.cancel();
    this.armedAt = at;
    // Unref'd: the timer may outlive its deadlines (see keepIdleTimer), and an idle process must be free to exit.
    // Work that is really in flight (a socket, a child process) keeps the process alive by itself; a keepAlive node
    // (a caller waiting on breakwater alone) keeps it referenced until it fires.
    this.armedAlive = this.alive > 0;
    this.timer = this.clock.setTimer(this.fire, at - now, this.armedAlive);
  }

  private onTimer(): void {
    this.timer = null;
    this.armedAt = Infinity;
    this.armedAlive = false;
    const now = this.clock.now();
    let earliest = Infinity;
    for (const [delay, list] of this.lists) {
      let node = list.head;
      while (node !== null && node.deadlineAt <= now) {
        this.remove(node);
        try {
          node.onDeadline();
        } catch {
          // An expiry handler never breaks the shared timer; the executor reports its own errors.
        }
        node = list.head;
      }
      node = list.head;
      if (node === null) {
        this.lists.delete(delay);
        if (list === this.lastList) {
          this.lastList = null;
          this.lastDelay = NaN;
        }
      }
      else if (node.deadlineAt < earliest) earliest = node.deadlineAt;
    }
    if (earliest !== Infinity && this.timer === null) this.arm(earliest, now);
  }
}
