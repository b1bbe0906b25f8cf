// LruCache against a plain reference model: an array ordered from least to most recently used.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.ts';
import { LruCache } from './lru-cache.ts';

class ModelLru {
  order: { key: number; value: string; bytes: number }[] = [];
  constructor(readonly maxBytes: number) {}
  get(key: number): string | undefined {
    const i = this.order.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    const [e] = this.order.splice(i, 1);
    this.order.push(e!);
    return e!.value;
  }
  set(key: number, value: string, bytes: number): void {
    if (bytes > this.maxBytes) return;
    const i = this.order.findIndex((e) => e.key === key);
    if (i >= 0) this.order.splice(i, 1);
    this.order.push({ key, value, bytes });
    while (this.bytes() > this.maxBytes) this.order.shift();
  }
  bytes(): number {
    return this.order.reduce((s, e) => s + e.bytes, 0);
  }
}

test('gets, sets, replacements and evictions agree with a reference model over random operations', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = mulberry32(seed);
    const max = 50 + Math.floor(rand() * 500);
    const lru = new LruCache<string>(max);
    const model = new ModelLru(max);
    // Block-address-like keys (beyond 2^32, so not small integers), few enough to repeat.
    const keys = Array.from({ length: 40 }, (_, i) => (i + 1) * 2 ** 32 + 4096 * i);
    for (let op = 0; op < 2000; op++) {
      const key = keys[Math.floor(rand() * keys.length)]!;
      if (rand() < 0.5) {
        assert.equal(lru.get(key), model.get(key), `seed ${seed} op ${op}: get`);
      } else {
        const bytes = 1 + Math.floor(rand() * (rand() < 0.05 ? 2 * max : max / 4));
        lru.set(key, `v${op}`, bytes);
        model.set(key, `v${op}`, bytes);
      }
      assert.equal(lru.bytes, model.bytes(), `seed ${seed} op ${op}: bytes`);
      assert.equal(lru.size, model.order.length, `seed ${seed} op ${op}: size`);
    }
    // Same contents, and the same eviction order from here on: fill with fresh keys one at a time.
    for (let i = 0; i < model.order.length + 5; i++) {
      const fresh = 2 ** 50 + i;
      lru.set(fresh, 'x', 1);
      model.set(fresh, 'x', 1);
      for (const k of model.order.map((e) => e.key)) assert.equal(lru.get(k), model.get(k));
    }
  }
});

test('hits and misses are counted; an entry larger than the cache is not stored; clear empties it', () => {
  const lru = new LruCache<number>(10);
  lru.set(1, 1, 4);
  assert.equal(lru.get(1), 1);
  assert.equal(lru.get(2), undefined);
  assert.deepEqual([lru.hits, lru.misses], [1, 1]);
  lru.set(3, 3, 11);
  assert.equal(lru.get(3), undefined);
  assert.equal(lru.bytes, 4);
  lru.clear();
  assert.equal(lru.bytes, 0);
  assert.equal(lru.size, 0);
  assert.equal(lru.get(1), undefined);
});
