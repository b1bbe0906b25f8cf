// The plotter's only way to the data: the ArborDB HTTP API (same origin). An API key, when the
// server needs one, is asked for once and kept in this tab's sessionStorage.

const KEY = 'arbordb.apiKey';

export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error;
    super(e ? `${e.name}: ${e.message}` : `HTTP ${status}`);
    this.status = status;
    this.code = e?.code ?? status;
  }
}

let askKey = async () => null;

/** Called when the server answers 401: resolve with a key to retry with, or null. */
export function onKeyNeeded(fn) {
  askKey = fn;
}

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY);
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

/** fetch with the API key; asks for a key once on 401. */
export async function apiFetch(path, init = {}) {
  let res = await fetch(path, { ...init, headers: headers(init.headers) });
  if (res.status === 401) {
    const key = await askKey();
    if (key) {
      sessionStorage.setItem(KEY, key);
      res = await fetch(path, { ...init, headers: headers(init.headers) });
    }
  }
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, body);
  }
  return res;
}

export async function getJson(path, init = {}) {
  return (await apiFetch(path, init)).json();
}

export async function getBlob(path) {
  return (await apiFetch(path)).blob();
}

/** Query string from an object (undefined values skipped; BigInts as text). */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.append(k, String(v));
  return u.toString();
}

/**
 * Follow server-sent events with fetch (so the API key header can be sent): calls
 * onEvent(name, data) for each event until `signal` aborts or the stream ends.
 */
export async function followEvents(path, signal, onEvent) {
  const res = await apiFetch(path, { signal, headers: { accept: 'text/event-stream' } });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
        i = buf.indexOf('\n\n');
      }
    }
  } finally {
    reader.releaseLock();
  }
}
