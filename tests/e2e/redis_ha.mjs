// Highly available Redis for the browser suite, from Debian's redis-server on free loopback ports:
// a three-primary Cluster, and a Sentinel set (a primary, a replica, three sentinels). Each
// resolves to { toml, stop() }, `toml` being the `[session.redis]` table that points at it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startListening, waitFor } from './harness.mjs';

const cli = (port, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
  .toString();

function server(args) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-redis-'));
  const child = spawn('redis-server', [...args, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, stop: async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } } };
}

async function node(extra = []) {
  const proc = await startListening((p) => server(['--port', String(p), ...extra]), 'redis-server');
  const { port } = proc;
  await waitFor(() => cli(port, 'PING').includes('PONG'), `redis-server on ${port}`);
  return { port, stop: proc.stop };
}

export async function startCluster() {
  const nodes = [];
  for (let i = 0; i < 3; i += 1) nodes.push(await node(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']));
  execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
  for (const n of nodes) await waitFor(() => cli(n.port, 'CLUSTER', 'INFO').includes('cluster_state:ok'), 'cluster_state:ok');
  return {
    toml: `[session.redis]\nmode = "cluster"\nnodes = [${nodes.map((n) => `"redis://127.0.0.1:${n.port}"`).join(', ')}]\n`,
    stop: async () => { for (const n of nodes) await n.stop(); },
  };
}

export const MASTER_NAME = 'vestibule-e2e';

export async function startSentinels() {
  const primary = await node();
  const replica = await node(['--replicaof', '127.0.0.1', String(primary.port)]);
  await waitFor(() => cli(replica.port, 'INFO', 'replication').includes('master_link_status:up'), 'replica in sync');
  const sentinels = [];
  for (let i = 0; i < 3; i += 1) {
    const sentinel = await startListening((port) => {
      const conf = join(mkdtempSync(join(tmpdir(), 'vestibule-e2e-sentinel-')), 'sentinel.conf');
      writeFileSync(conf, `port ${port}\nbind 127.0.0.1\nsentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2\n`
        + `sentinel down-after-milliseconds ${MASTER_NAME} 1000\nsentinel failover-timeout ${MASTER_NAME} 5000\n`);
      const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      return { child, stop: async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } } };
    }, 'redis sentinel');
    sentinels.push({ port: sentinel.port, stop: sentinel.stop });
  }
  // A failover needs each sentinel to know the replica and the two other sentinels.
  for (const s of sentinels) {
    await waitFor(() => {
      const info = cli(s.port, 'SENTINEL', 'MASTER', MASTER_NAME).split('\n').map((l) => l.trim());
      const field = (name) => info[info.indexOf(name) + 1];
      return field('num-other-sentinels') === '2' && field('num-slaves') === '1';
    }, 'sentinels know each other', 20000);
  }
  return {
    toml: `[session.redis]\nmode = "sentinel"\nmaster_name = "${MASTER_NAME}"\n`
      + `sentinels = [${sentinels.map((s) => `"redis://127.0.0.1:${s.port}"`).join(', ')}]\n`,
    stop: async () => { for (const p of [...sentinels, replica, primary]) await p.stop(); },
  };
}
