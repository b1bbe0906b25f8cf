// S3ObjectStore against a scripted local HTTP server (request shapes, status mapping, deadlines)
// and parseS3Url. The full contract against a real S3 server (Ceph RGW) runs in
// test/cluster/object-store.contract.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isDbError } from '../core/errors.ts';
import { parseS3Url, S3ObjectStore } from './s3-object-store.ts';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

let server: Server;
let endpoint: string;
let handler: Handler = (_req, _body, res) => res.end();
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      handler(req, Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const store = (timeoutMs = 2000): S3ObjectStore =>
  new S3ObjectStore({ endpoint, accessKey: 'AK', secretKey: 'SK', bucket: 'bkt', prefix: 'pre/', timeoutMs });

const xmlError = (res: ServerResponse, status: number, code: string): void => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`);
};

describe('S3ObjectStore requests', () => {
  it('create is a path-style PUT with If-None-Match: * under the prefix; 412 means the key exists', async () => {
    const s = store();
    let status = 200;
    handler = (_req, _body, res) => (status === 200 ? res.end() : xmlError(res, status, 'PreconditionFailed'));
    seen.length = 0;
    assert.equal(await s.create('a/b', new Uint8Array([1, 2, 3])), true);
    const put = seen[0];
    assert.ok(put);
    assert.equal(put.method, 'PUT');
    assert.equal(new URL(put.url, endpoint).pathname, '/bkt/pre/a/b');
    assert.equal(put.headers['if-none-match'], '*');
    status = 412;
    assert.equal(await s.create('a/b', new Uint8Array([1])), false);
    assert.equal(seen.length, 2, 'a create is never retried');
    await s.close();
  });

  it('a ranged get sends a Range header for exactly the bytes wanted; 404 is null', async () => {
    const s = store();
    handler = (req, _body, res) => {
      if (new URL(req.url ?? '', endpoint).pathname.endsWith('/missing')) return xmlError(res, 404, 'NoSuchKey');
      res.writeHead(206, { 'content-range': 'bytes 10-13/100' });
      res.end(Buffer.from([1, 2, 3, 4]));
    };
    seen.length = 0;
    assert.deepEqual(await s.get('k', { offset: 10, length: 4 }), new Uint8Array([1, 2, 3, 4]));
    assert.equal(seen[0]?.headers.range, 'bytes=10-13');
    assert.equal(await s.get('missing'), null);
    await s.close();
  });

  it('a server error becomes DbError 500 naming the key and the store', async () => {
    const s = store();
    handler = (_req, _body, res) => xmlError(res, 403, 'AccessDenied');
    await assert.rejects(s.get('some/key'), (e: unknown) => {
      assert.ok(isDbError(e, 500));
      assert.match(
        e.message,
        /get some\/key in s3:\/\/bkt\/pre\/ at http:\/\/127\.0\.0\.1:\d+ failed: AccessDenied \(HTTP 403\)/,
      );
      return true;
    });
    await s.close();
  });

  it('a server that does not answer makes the call fail with 434 at its deadline', async () => {
    const s = store(300);
    handler = () => {}; // never answers
    const t0 = Date.now();
    await assert.rejects(s.create('slow', new Uint8Array([1])), (e: unknown) => {
      assert.ok(isDbError(e, 434));
      assert.match(e.message, /create slow in s3:\/\/bkt\/pre\/.* did not answer within 300 ms/);
      return true;
    });
    await assert.rejects(s.list('x/'), (e: unknown) => isDbError(e, 434));
    assert.ok(Date.now() - t0 < 5000);
    await s.close();
  });

  it('list follows continuation tokens and strips the store prefix from keys', async () => {
    const s = store();
    handler = (req, _body, res) => {
      const token = new URL(req.url ?? '', endpoint).searchParams.get('continuation-token');
      const page = token
        ? '<Contents><Key>pre/d/2</Key><Size>7</Size></Contents><IsTruncated>false</IsTruncated>'
        : '<Contents><Key>pre/d/1</Key><Size>5</Size></Contents><IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>';
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>${page}</ListBucketResult>`);
    };
    assert.deepEqual(await s.list('d/'), [
      { key: 'd/1', size: 5 },
      { key: 'd/2', size: 7 },
    ]);
    await s.close();
  });

  it('delete sends chunks of at most 1000 keys and reports keys the server could not delete', async () => {
    const s = store();
    const sizes: number[] = [];
    handler = (_req, body, res) => {
      const keys = body.toString().match(/<Key>/g)?.length ?? 0;
      sizes.push(keys);
      res.writeHead(200, { 'content-type': 'application/xml' });
      const err =
        sizes.length === 3 ? '<Error><Key>pre/k2400</Key><Code>AccessDenied</Code><Message>no</Message></Error>' : '';
      res.end(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${err}</DeleteResult>`);
    };
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    await assert.rejects(
      s.delete(keys),
      (e: unknown) => isDbError(e, 500) && /pre\/k2400.*AccessDenied/.test(e.message),
    );
    assert.deepEqual(sizes, [1000, 1000, 500]);
    await s.close();
  });
});

describe('parseS3Url', () => {
  it('reads credentials, host, bucket and prefix, with plain http for a loopback host', () => {
    assert.deepEqual(parseS3Url('s3://AK:S%2FK@127.0.0.1:7480/bucket/shards/a/'), {
      endpoint: 'http://127.0.0.1:7480',
      accessKey: 'AK',
      secretKey: 'S/K',
      bucket: 'bucket',
      prefix: 'shards/a/',
    });
    assert.equal(parseS3Url('s3://a:b@localhost:9000/b').endpoint, 'http://localhost:9000');
    assert.equal(parseS3Url('s3://a:b@[::1]:9000/b').endpoint, 'http://[::1]:9000');
  });

  it('uses https for other hosts unless the scheme says otherwise, and takes the region from the query', () => {
    assert.equal(parseS3Url('s3://a:b@s3.example.com/b').endpoint, 'https://s3.example.com');
    assert.equal(parseS3Url('s3+http://a:b@ceph.lan:7480/b').endpoint, 'http://ceph.lan:7480');
    assert.equal(parseS3Url('s3+https://a:b@127.0.0.1:7480/b').endpoint, 'https://127.0.0.1:7480');
    assert.equal(parseS3Url('s3://a:b@h/b?region=eu-west-1').region, 'eu-west-1');
    assert.equal(parseS3Url('s3://a:b@h/b').prefix, '');
  });

  it('refuses URLs without credentials, bucket or the s3 scheme, never echoing the secret', () => {
    for (const bad of ['http://a:b@h/b', 's3://h/b', 's3://a:secret@h/', 'not a url']) {
      assert.throws(
        () => parseS3Url(bad),
        (e: unknown) => isDbError(e, 438) && !e.message.includes('secret'),
        bad,
      );
    }
  });
});
