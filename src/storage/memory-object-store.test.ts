import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { MemoryObjectStore } from './memory-object-store.ts';
import { objectStoreConformance } from './object-store.conformance.ts';

let n = 0;
objectStoreConformance('memory', async () => ({ store: new MemoryObjectStore(), prefix: `t${n++}/` }));

describe('MemoryObjectStore fault hooks', () => {
  it('failNext makes the next calls of the chosen ops throw, then calls succeed again', async () => {
    const s = new MemoryObjectStore();
    s.failNext(2, 'throw', ['create']);
    assert.deepEqual(await s.list(''), []);
    await assert.rejects(
      s.create('k', new Uint8Array([1])),
      (e: unknown) => isDbError(e, 500) && /k in memory/.test(e.message),
    );
    await assert.rejects(s.create('k', new Uint8Array([1])));
    assert.equal(s.objects.size, 0);
    assert.equal(await s.create('k', new Uint8Array([1])), true);
  });

  it('a hanging call fails with 434 at the deadline without acting', async () => {
    const s = new MemoryObjectStore(new Map(), { timeoutMs: 30 });
    s.failNext(1, 'hang');
    const t0 = Date.now();
    await assert.rejects(s.create('k', new Uint8Array([1])), (e: unknown) => isDbError(e, 434));
    assert.ok(Date.now() - t0 >= 25);
    assert.equal(s.objects.size, 0);
  });

  it('land-then-throw stores the object but reports a timeout', async () => {
    const s = new MemoryObjectStore();
    s.failNext(1, 'land-then-throw');
    await assert.rejects(s.create('k', new Uint8Array([5])), (e: unknown) => isDbError(e, 434));
    assert.deepEqual(await s.get('k'), new Uint8Array([5]));
  });

  it('peers share objects but not faults', async () => {
    const a = new MemoryObjectStore();
    const b = a.peer();
    a.failNext(1);
    assert.equal(await b.create('x', new Uint8Array([1])), true);
    await assert.rejects(a.get('x'));
    assert.deepEqual(await a.get('x'), new Uint8Array([1]));
  });
});
