/**
 * The card grid, windowed: only the rows in (or near) the viewport have cards in the DOM. Every card has the same
 * height (CSS `--card-h`), so the grid knows each row's place without measuring, keeps the page's full height with
 * its own height, and moves a small window of rows along as the page scrolls. Cards are recycled: a card that
 * scrolls out is given to a circuit that scrolls in, and only fields that changed are written.
 */
import { Card, type CardInput } from './cards.js';

/** Rows drawn above and below the viewport, so a quick scroll does not show blanks. */
const OVERSCAN_ROWS = 1;
const MIN_CARD_WIDTH = 300;

/** An item the grid can show: an id and what its card shows. */
export interface GridItem {
  readonly id: string;
  input(): CardInput;
}

export class VirtualGrid {
  private readonly window: HTMLElement;
  private items: readonly GridItem[] = [];
  private readonly shown = new Map<string, Card>();
  private readonly spare: Card[] = [];
  private columns = 1;
  private rowHeight = 0;
  private gap = 0;
  private frame = 0;

  constructor(private readonly root: HTMLElement) {
    this.window = document.createElement('div');
    this.window.className = 'grid-window';
    root.append(this.window);
    window.addEventListener('scroll', () => this.schedule(), { passive: true });
    window.addEventListener('resize', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(root);
  }

  /** The card showing `id`, if it is in the window now. */
  cardOf(id: string): Card | undefined {
    return this.shown.get(id);
  }

  /** How many cards are in the DOM (for the page's own checks). */
  get drawn(): number {
    return this.shown.size;
  }

  /** Shows `items` in this order; draws the visible window now. */
  set(items: readonly GridItem[]): void {
    this.items = items;
    this.draw();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private measure(): void {
    this.gap = parseFloat(getComputedStyle(this.window).rowGap) || 16;
    this.rowHeight = (parseFloat(getComputedStyle(this.root).getPropertyValue('--card-h')) || 416) + this.gap;
    const width = this.root.clientWidth;
    this.columns = Math.max(1, Math.floor((width + this.gap) / (MIN_CARD_WIDTH + this.gap)));
  }

  private draw(): void {
    this.measure();
    const rows = Math.ceil(this.items.length / this.columns);
    const height = rows === 0 ? 0 : rows * this.rowHeight - this.gap;
    const heightText = `${height}px`;
    if (this.root.style.height !== heightText) this.root.style.height = heightText;
    const columnsText = `repeat(${this.columns}, minmax(0, 1fr))`;
    if (this.window.style.gridTemplateColumns !== columnsText) this.window.style.gridTemplateColumns = columnsText;

    const top = this.root.getBoundingClientRect().top;
    const firstRow = Math.max(0, Math.floor(-top / this.rowHeight) - OVERSCAN_ROWS);
    const lastRow = Math.min(rows - 1, Math.floor((window.innerHeight - top) / this.rowHeight) + OVERSCAN_ROWS);
    const from = firstRow * this.columns;
    const to = lastRow < firstRow ? from : Math.min(this.items.length, (lastRow + 1) * this.columns);
    const transform = `translateY(${firstRow * this.rowHeight}px)`;
    if (this.window.style.transform !== transform) this.window.style.transform = transform;

    const visible = this.items.slice(from, to);
    const keep = new Set(visible.map((item) => item.id));
    for (const [id, card] of this.shown) {
      if (keep.has(id)) continue;
      this.shown.delete(id);
      this.spare.push(card);
    }
    const wanted: HTMLElement[] = [];
    for (const item of visible) {
      let card = this.shown.get(item.id);
      if (card === undefined) {
        card = this.spare.pop() ?? new Card();
        card.bind(item.id);
        this.shown.set(item.id, card);
      }
      card.update(item.input());
      wanted.push(card.root);
    }
    for (const card of this.spare) card.root.remove();
    // Reorder only when the order changed, so focus and hover survive updates.
    const current = this.window.children;
    let same = current.length === wanted.length;
    for (let i = 0; same && i < wanted.length; i++) same = current[i] === wanted[i];
    if (!same) this.window.replaceChildren(...wanted);
  }
}
