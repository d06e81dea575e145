// A round-robin load balancer (Debian's nginx) in front of several Vestibule replicas, as
// operators run one. `/auth/login` always goes to the first replica and `/auth/callback` to the
// second, so that every login starts on one replica and completes on another; everything else
// takes turns. Each response names the replica that served it in `X-Replica`.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startListening, waitFor } from './harness.mjs';

export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** The start of an nginx.conf living in `dir`, up to inside its `http` block. */
export const nginxHead = (dir) => `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
`;

export function nginx(dir) {
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, stop: async () => { if (child.exitCode === null) { child.kill('SIGQUIT'); await exited; } } };
}

export async function startBalancer({ port, replicas }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-nginx-'));
  const pass = (upstream) => `proxy_pass http://${upstream}; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $remote_addr;
      add_header X-Replica $upstream_addr always;`;
  writeFileSync(join(dir, 'nginx.conf'), `${nginxHead(dir)}  upstream all { ${replicas.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 16; }
  upstream first { server 127.0.0.1:${replicas[0]}; }
  upstream second { server 127.0.0.1:${replicas[1]}; }
  server {
    listen 127.0.0.1:${port};
    location = /auth/login { ${pass('first')} }
    location = /auth/callback { ${pass('second')} }
    location / { ${pass('all')} }
  }
}
`);
  execFileSync(NGINX, ['-t', '-q', '-c', join(dir, 'nginx.conf'), '-p', dir]);
  // The port is in the IdP's redirect URIs already: if it was taken meanwhile, this fails
  // plainly instead of the test talking to whoever took it.
  const { child } = await startListening(() => nginx(dir), 'nginx', port);
  const exited = new Promise((r) => { if (child.exitCode !== null) r(); else child.once('exit', r); });
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${origin}/healthz`)).status === 200, 'nginx');
  return {
    origin,
    log: () => readFileSync(join(dir, 'error.log'), 'utf8'),
    stop: async () => { if (child.exitCode === null) { child.kill('SIGQUIT'); await exited; } },
  };
}

/**
 * A TLS-terminating front (nginx) at `https://127.0.0.1:port` for one Vestibule, with a
 * self-signed certificate made for this run: what an https `public_url` looks like to a browser.
 */
export async function startTlsFront({ port, upstreamPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'nginx.conf'), `${nginxHead(dir)}  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort}; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $http_host; proxy_buffering off;
    }
  }
}
`);
  execFileSync(NGINX, ['-t', '-q', '-c', join(dir, 'nginx.conf'), '-p', dir]);
  const { child } = await startListening(() => nginx(dir), 'nginx (tls)', port);
  const exited = new Promise((r) => { if (child.exitCode !== null) r(); else child.once('exit', r); });
  const origin = `https://127.0.0.1:${port}`;
  // Node's fetch would refuse the self-signed certificate: the port answering is the probe.
  const { connect } = await import('node:net');
  await waitFor(() => new Promise((res) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  }), 'nginx (tls)');
  return {
    origin,
    stop: async () => { if (child.exitCode === null) { child.kill('SIGQUIT'); await exited; } },
  };
}
