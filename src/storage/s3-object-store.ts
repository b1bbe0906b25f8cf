import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DbError } from '../core/errors.ts';
import { newObjectStoreStats, type ObjectStoreStats, timeout } from './memory-object-store.ts';
import type { ObjectInfo, ObjectStore } from './object-store.ts';

export interface S3ObjectStoreOptions {
  /** `http://127.0.0.1:7480` (Ceph RGW, MinIO) or an AWS endpoint. */
  readonly endpoint: string;
  readonly region?: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  /** Prepended to every key (`shards/` …); no slash is added. Default ''. */
  readonly prefix?: string;
  /** Deadline of one call, ms, retries included. Default 5000. */
  readonly timeoutMs?: number;
  /** Attempts of gets, lists and deletes on throttling or 5xx (creates are tried once). Default 3. */
  readonly maxAttempts?: number;
}

const DELETE_CHUNK = 1000;

/**
 * An ObjectStore over any S3-compatible service, path-style (`endpoint/bucket/key`). Creates are
 * `PutObject` with `If-None-Match: *` and are never retried by the SDK: a retry of a write that
 * landed would answer 412 and look like another writer's object (the callers decide what a `false`
 * means). Every call has a deadline (`timeoutMs`) through an AbortSignal; a call that misses it
 * throws DbError 434, any other failure DbError 500; both name the key and `location`.
 * Request checksums are only sent when an operation requires them (DeleteObjects), which every
 * S3-compatible server accepts.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly stats: ObjectStoreStats = newObjectStoreStats();
  private readonly client: S3Client;
  private readonly writer: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(opts: S3ObjectStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.location = `s3://${opts.bucket}/${this.prefix} at ${opts.endpoint}`;
    const base = {
      endpoint: opts.endpoint,
      region: opts.region ?? 'us-east-1',
      credentials: { accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } as const;
    // The SDK warns on Node 20 that *future* releases will need Node 22; this one is pinned in
    // package-lock.json and supports Node 20, so the warning would only clutter every node's log.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({ ...base, maxAttempts: opts.maxAttempts ?? 3 });
    this.writer = new S3Client({ ...base, maxAttempts: 1 });
  }

  async create(key: string, body: Uint8Array): Promise<boolean> {
    this.stats.creates++;
    try {
      await this.writer.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, IfNoneMatch: '*' }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
      this.stats.createdBytes += body.length;
      return true;
    } catch (e) {
      // 409 ConditionalRequestConflict: a concurrent conditional write of this key is in flight.
      if (status(e) === 412 || status(e) === 409) return false;
      throw this.failure('create', key, e);
    }
  }

  async get(key: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array | null> {
    this.stats.gets++;
    if (range && !(Number.isSafeInteger(range.offset) && range.offset >= 0 && range.length > 0)) {
      throw new DbError(
        500,
        `get ${key} in ${this.location}: range [${range.offset}, +${range.length}) is not satisfiable`,
      );
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
        { abortSignal: signal },
      );
      if (!r.Body) throw new DbError(500, 'the response has no body');
      const bytes = await r.Body.transformToByteArray();
      this.stats.gotBytes += bytes.length;
      return bytes;
    } catch (e) {
      if (status(e) === 404 && errorName(e) !== 'NoSuchBucket') return null;
      throw this.failure('get', key, e);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const signal = AbortSignal.timeout(this.timeoutMs);
    let token: string | undefined;
    try {
      do {
        this.stats.lists++;
        const r = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
          { abortSignal: signal },
        );
        for (const o of r.Contents ?? []) {
          if (o.Key === undefined) continue;
          out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 });
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.failure('list', `${prefix}*`, e);
    }
    return out;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) {
      const chunk = keys.slice(i, i + DELETE_CHUNK);
      this.stats.deletes += chunk.length;
      let errors: { Key?: string | undefined; Code?: string | undefined; Message?: string | undefined }[];
      try {
        const r = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((k) => ({ Key: this.prefix + k })), Quiet: true },
          }),
          { abortSignal: AbortSignal.timeout(this.timeoutMs) },
        );
        errors = (r.Errors ?? []).filter((x) => x.Code !== 'NoSuchKey');
      } catch (e) {
        throw this.failure('delete', chunk[0] ?? '', e);
      }
      const first = errors[0];
      if (first) {
        throw new DbError(
          500,
          `delete ${first.Key ?? '?'} in ${this.location} failed: ${first.Code ?? '?'} ${first.Message ?? ''} (${errors.length} of ${chunk.length} keys not deleted)`,
        );
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.writer.destroy();
  }

  private failure(op: string, key: string, e: unknown): DbError {
    if (e instanceof DbError)
      return new DbError(e.code, `${op} ${key} in ${this.location}: ${e.message}`, { cause: e });
    const name = errorName(e);
    if (name === 'AbortError' || name === 'TimeoutError') return timeout(op, key, this.location, this.timeoutMs);
    const code = status(e);
    const why = e instanceof Error ? e.message : String(e);
    return new DbError(
      500,
      `${op} ${key} in ${this.location} failed: ${name}${code ? ` (HTTP ${code})` : ''}: ${why}`,
      { cause: e },
    );
  }
}

function status(e: unknown): number | undefined {
  return e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

/**
 * Options from `s3://ACCESS:SECRET@host:port/bucket/prefix` (access key and secret
 * percent-encoded when they hold `:`, `@` or `/`). The endpoint is plain http when the host is a
 * loopback address (`127.x.x.x`, `::1`, `localhost`: a test or sidecar gateway), https otherwise;
 * `s3+http://` and `s3+https://` force either. The prefix is everything after the bucket, kept
 * as written (`s3://…/b/shards/` → prefix `shards/`). Query `?region=` sets the region.
 */
export function parseS3Url(url: string): S3ObjectStoreOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DbError(438, `not an s3 URL: ${redact(url)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 's3' && scheme !== 's3+http' && scheme !== 's3+https') {
    throw new DbError(438, `not an s3 URL (scheme ${scheme}): expected s3://ACCESS:SECRET@host:port/bucket/prefix`);
  }
  if (!u.username || !u.password) throw new DbError(438, `s3 URL ${redact(url)} has no ACCESS:SECRET@ credentials`);
  const [bucket, ...rest] = u.pathname.replace(/^\//, '').split('/');
  if (!bucket) throw new DbError(438, `s3 URL ${redact(url)} names no bucket`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  const tls = scheme === 's3+https' || (scheme === 's3' && !loopback);
  const region = u.searchParams.get('region');
  return {
    endpoint: `${tls ? 'https' : 'http'}://${u.host}`,
    accessKey: decodeURIComponent(u.username),
    secretKey: decodeURIComponent(u.password),
    bucket,
    prefix: rest.join('/'),
    ...(region ? { region } : {}),
  };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
