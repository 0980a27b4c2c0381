/** @internal a map from key to a lazily created object, with a reset for tests. */
export class KeyedRegistry<T> {
  private readonly items = new Map<string, T>();

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getOrCreate(key: string, create: () => T): T {
    let item = this.items.get(key);
    if (item === undefined) {
      item = create();
      this.items.set(key, item);
    }
    return item;
  }

  set(key: string, item: T): void {
    this.items.set(key, item);
  }

  delete(key: string): boolean {
    return this.items.delete(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  clear(): void {
    this.items.clear();
  }

  get size(): number {
    return this.items.size;
  }
}
