// A cluster "node" reduced to its etcd part, run as a child process so tests can SIGKILL or
// SIGSTOP it like a real node. It joins the membership (mode 'member') or campaigns in an
// election (mode 'elect') and prints one JSON line per event on stdout:
//   {"ev": "...", "t": Date.now(), "live"/"leader": …}
// Usage: node --import tsx test/cluster/etcd-member-child.ts '<json ChildConfig>'
import { Election } from '../../src/cluster/election.ts';
import { EtcdClient } from '../../src/cluster/etcd-client.ts';
import { Membership } from '../../src/cluster/membership.ts';

export interface ChildConfig {
  readonly mode: 'member' | 'elect';
  readonly endpoints: readonly string[];
  readonly cluster: string;
  readonly nodeId: string;
  readonly ttlSeconds: number;
}

const say = (ev: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...extra })}\n`);
};

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const client = new EtcdClient({ endpoints: config.endpoints });
// Live as long as the parent: its end of the stdin pipe closes when it dies.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();

if (config.mode === 'member') {
  const m: Membership = new Membership({
    client,
    cluster: config.cluster,
    ttlSeconds: config.ttlSeconds,
    onLeaseLost: async () => {
      say('dropping', { live: m.isLive() });
      await new Promise((r) => setTimeout(r, 300));
      say('dropped', { live: m.isLive() });
    },
  });
  m.on('lease-lost', (reason) => say('lease-lost', { live: m.isLive(), reason }));
  m.on('rejoined', () => say('rejoined', { live: m.isLive() }));
  process.on('SIGCONT', () => say('cont', { live: m.isLive() }));
  await m.join(config.nodeId, { grpc: `${config.nodeId}.invalid:1` });
  say('joined', { live: m.isLive() });
} else {
  const e = new Election({ client, cluster: config.cluster, ttlSeconds: config.ttlSeconds });
  e.on('elected', () => say('elected', { leader: e.isLeader() }));
  e.on('leadership-lost', (reason) => say('leadership-lost', { leader: e.isLeader(), reason }));
  process.on('SIGCONT', () => say('cont', { leader: e.isLeader() }));
  await e.campaign('gc', config.nodeId);
  say('campaigning', { leader: e.isLeader() });
}
