/**
 * The per-stream metadata RPCs: Create, StreamInfo, SetStreamAnnotations, SetStreamTags,
 * Obliterate (guide §4.10–4.11). Validation of collections, tags and annotations is the catalog's
 * (407/408/409/417/418/423/429); this layer converts the wire forms and checks what only the wire
 * can get wrong.
 */
import { DbError } from '../../core/errors.ts';
import type { Backend } from '../../db/backend.ts';
import type {
  CreateParams,
  CreateResponse,
  ObliterateParams,
  ObliterateResponse,
  SetStreamAnnotationsParams,
  SetStreamAnnotationsResponse,
  SetStreamTagsParams,
  SetStreamTagsResponse,
  StreamInfoParams,
  StreamInfoResponse,
} from '../../wire/index.ts';
import {
  createMapOf,
  descriptorToWire,
  expectedPropertyVersion,
  keyList,
  metaFilterOf,
  streamIdOf,
} from './convert.ts';

export const EMPTY_STAT = {};
export const EMPTY_STREAM_INFO: StreamInfoResponse = { versionMajor: 0n, versionMinor: 0n };

/** Create: `val` is always set by btrdb-python (None → ""), so absent `val` reads as "". */
export async function create(backend: Backend, req: CreateParams): Promise<CreateResponse> {
  await backend.create({
    id: streamIdOf(req.uuid),
    collection: req.collection,
    tags: createMapOf(req.tags, 'tags'),
    annotations: createMapOf(req.annotations, 'annotations'),
  });
  return {};
}

/** StreamInfo: descriptor and/or data version; both omitted is 421 WrongArgs (v4); unknown 404. */
export async function streamInfo(backend: Backend, req: StreamInfoParams): Promise<StreamInfoResponse> {
  if (req.omitVersion && req.omitDescriptor) {
    throw new DbError(421, 'StreamInfo: omitVersion and omitDescriptor are both set; nothing to answer');
  }
  const { descriptor, version } = await backend.streamInfo(streamIdOf(req.uuid));
  const versionMajor = req.omitVersion ? 0n : BigInt(version);
  return req.omitDescriptor
    ? { versionMajor, versionMinor: 0n }
    : { versionMajor, versionMinor: 0n, descriptor: descriptorToWire(descriptor) };
}

/** Upsert (`val` set) / remove (`val` absent) annotations, delete `removals`; 423 on a stale version. */
export async function setStreamAnnotations(
  backend: Backend,
  req: SetStreamAnnotationsParams,
): Promise<SetStreamAnnotationsResponse> {
  await backend.setAnnotations(
    streamIdOf(req.uuid),
    expectedPropertyVersion(req.expectedPropertyVersion),
    metaFilterOf(req.changes, 'changes'),
    keyList(req.removals, 'removals'),
  );
  return {};
}

/** Upsert/remove tags, move to `collection` ('' = unchanged), delete `remove` keys; 423 on a stale version. */
export async function setStreamTags(backend: Backend, req: SetStreamTagsParams): Promise<SetStreamTagsResponse> {
  await backend.setTags(
    streamIdOf(req.uuid),
    expectedPropertyVersion(req.expectedPropertyVersion),
    metaFilterOf(req.tags, 'tags'),
    req.collection,
    keyList(req.remove, 'remove'),
  );
  return {};
}

/** Erase data, versions and metadata; the uuid can never be created again (429). Allowed by default. */
export async function obliterate(backend: Backend, req: ObliterateParams): Promise<ObliterateResponse> {
  await backend.obliterate(streamIdOf(req.uuid));
  return {};
}
