/**
 * `Stream.update` (btrdb-python `update`): tags and collection through SetStreamTags, then
 * annotations through SetStreamAnnotations, each guarded by the property version the handle last
 * saw — a concurrent change elsewhere makes the server answer 423 and nothing of that step is
 * applied. Without `replace` both maps are upserts; with `replace` the keys the handle knows but
 * the caller did not give are removed. The handle re-reads its descriptor after each step (the
 * next step needs the new property version).
 */
import { DbError } from '../core/errors.ts';
import type { StreamDescriptor, StreamId } from '../core/types.ts';
import type { Backend } from '../db/backend.ts';
import { type AnnotationValue, encodeAnnotations } from './annotations.ts';

export interface UpdateOptions {
  /** Tags to upsert (or, with `replace`, the complete new set of tags). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Annotations to upsert (or, with `replace`, the complete new set). Non-strings are JSON-encoded. */
  readonly annotations?: Readonly<Record<string, AnnotationValue>>;
  /** Move the stream to this collection. */
  readonly collection?: string;
  /** Replace instead of upsert: keys not given are removed (default false). */
  readonly replace?: boolean;
  /** JSON-encode non-string annotation values (default true); with false, every value must be a string. */
  readonly encode?: boolean;
}

/**
 * Apply `opts` to stream `id` whose last-seen descriptor is `seen`; `reload` re-reads the
 * descriptor. Returns the descriptor after the update. 438 if nothing to update.
 */
export async function updateStream(
  backend: Backend,
  id: StreamId,
  seen: StreamDescriptor,
  opts: UpdateOptions,
  reload: () => Promise<StreamDescriptor>,
): Promise<StreamDescriptor> {
  if (opts.tags === undefined && opts.annotations === undefined && opts.collection === undefined) {
    throw new DbError(438, 'update: give tags, annotations or collection');
  }
  const replace = opts.replace ?? false;
  let current = seen;
  if (opts.tags !== undefined || opts.collection !== undefined) {
    const tags = opts.tags ?? {};
    const remove =
      replace && opts.tags !== undefined ? Object.keys(current.tags).filter((k) => !Object.hasOwn(tags, k)) : [];
    await backend.setTags(id, current.propertyVersion, tags, opts.collection ?? current.collection, remove);
    current = await reload();
  }
  if (opts.annotations !== undefined) {
    const changes = encodeAnnotations(opts.annotations, opts.encode ?? true);
    const removals = replace ? Object.keys(current.annotations).filter((k) => !Object.hasOwn(changes, k)) : [];
    await backend.setAnnotations(id, current.propertyVersion, changes, removals);
    current = await reload();
  }
  return current;
}
