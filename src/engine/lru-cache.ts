/**
 * A byte-bounded LRU cache of decoded blocks, keyed by block address.
 *
 * Recency is a doubly linked list threaded through the entries (head = least recently used), so a
 * hit, an insert and an eviction are each O(1). (The obvious `Map` idiom — delete and re-insert on
 * a hit, evict `keys().next()` — is O(deleted entries) per eviction in V8: the iterator walks the
 * holes that deletions leave at the front of the table until the next rehash. With 20,000 cached
 * blocks an eviction cost 12 µs, and `arbor check` over 25M points spent 92 % of its time there.)
 */
interface Entry<V> {
  readonly key: number;
  value: V;
  bytes: number;
  prev: Entry<V> | null;
  next: Entry<V> | null;
}

export class LruCache<V> {
  private readonly map = new Map<number, Entry<V>>();
  /** Least recently used. */
  private head: Entry<V> | null = null;
  /** Most recently used. */
  private tail: Entry<V> | null = null;
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (e !== this.tail) {
      this.unlink(e);
      this.append(e);
    }
    return e.value;
  }

  set(key: number, value: V, bytes: number): void {
    if (bytes > this.maxBytes) return;
    const old = this.map.get(key);
    if (old) {
      this.used += bytes - old.bytes;
      old.value = value;
      old.bytes = bytes;
      this.unlink(old);
      this.append(old);
    } else {
      const e: Entry<V> = { key, value, bytes, prev: null, next: null };
      this.map.set(key, e);
      this.append(e);
      this.used += bytes;
    }
    while (this.used > this.maxBytes && this.head !== null) {
      const lru = this.head;
      this.unlink(lru);
      this.map.delete(lru.key);
      this.used -= lru.bytes;
    }
  }

  clear(): void {
    this.map.clear();
    this.head = null;
    this.tail = null;
    this.used = 0;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  private unlink(e: Entry<V>): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = null;
    e.next = null;
  }

  private append(e: Entry<V>): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }
}
