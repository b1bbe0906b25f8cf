// Free loopback TCP ports for test services (Ceph, etcd, PostgreSQL, arbor nodes).
//
// A port is found by binding 127.0.0.1:0 and reading the port the kernel chose, then closing the
// socket. There is an unavoidable race between closing and the service binding the port; to make it
// rare, ports handed out by this process are remembered and never handed out twice, and `freePorts`
// holds all n sockets open at once so the n ports are distinct.
import { createServer, type Server } from 'node:net';

const handedOut = new Set<number>();

function listenOnEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('ports: listening socket has no TCP address');
  return address.port;
}

/**
 * Returns n distinct free TCP ports on 127.0.0.1, none of which this process has returned before.
 * The ports are free at the moment of return; the caller should bind them promptly.
 */
export async function freePorts(n: number): Promise<number[]> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`freePorts: n must be a non-negative integer, got ${n}`);
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    // Bounded attempts: a port already handed out is kept open (so the kernel does not return it
    // again) and another is requested.
    for (let attempts = 0; ports.length < n; attempts++) {
      if (attempts > n + 1000) throw new Error(`freePorts: could not find ${n} unused ports`);
      const server = await listenOnEphemeral();
      held.push(server);
      const port = portOf(server);
      if (handedOut.has(port)) continue;
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map(closeServer));
  }
  for (const port of ports) handedOut.add(port);
  return ports;
}

/** Returns one free TCP port on 127.0.0.1 (see `freePorts`). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('freePort: no port returned');
  return port;
}
