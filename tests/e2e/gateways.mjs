// The gateway configs of the manual's "Behind nginx / Traefik / Caddy / Envoy" page, as
// templates: the browser suite runs real nginx and Caddy from them, and checks that the page
// shows exactly what they give for its example values (`DOC`).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX, nginx, nginxHead } from './balancer.mjs';
import { ROOT, startListening, waitFor } from './harness.mjs';

/** The values the manual's configs are shown with. */
export const DOC = {
  nginx: { listen: '443 ssl', tls: 'ssl_certificate /etc/ssl/app.pem;\n  ssl_certificate_key /etc/ssl/app.key;', vestibule: 'vestibule:8080', api: 'api:9200' },
  caddy: { site: 'app.example.com', vestibule: 'vestibule:8080', api: 'api:9200' },
};

/** An nginx site (what goes in `http { }`): Vestibule on `/`, the API on `/api/` behind `auth_request`. */
export function nginxSite({ listen, tls = '', vestibule, api }) {
  return `upstream vestibule { server ${vestibule}; keepalive 16; }
upstream api { server ${api}; keepalive 16; }

server {
  listen ${listen};
${tls ? `  ${tls}\n` : ''}
  # Vestibule: its endpoints (sign-in, callback, session, logout) and the app it serves.
  location / {
    proxy_pass http://vestibule;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
  }

  # The check, for auth_request only: a browser never reaches it, nor anything under it
  # (its 200 carries the access token meant for the upstream).
  location ^~ /auth/check {
    internal;
    proxy_pass http://vestibule;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Original-URI $request_uri;
    proxy_set_header X-Forwarded-Method $request_method;
  }

  # The API, checked first.
  location /api/ {
    auth_request /auth/check;
    auth_request_set $vestibule_authorization $upstream_http_authorization;
    auth_request_set $vestibule_user $upstream_http_x_auth_request_user;
    auth_request_set $vestibule_email $upstream_http_x_auth_request_email;
    auth_request_set $vestibule_identity $upstream_http_x_vestibule_identity;
    auth_request_set $vestibule_login $upstream_http_vestibule_login;
    error_page 401 = @sign_in;

    proxy_pass http://api;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    # What the check said, never what the browser sent (an empty value drops the header).
    proxy_set_header Authorization $vestibule_authorization;
    proxy_set_header X-Auth-Request-User $vestibule_user;
    proxy_set_header X-Auth-Request-Email $vestibule_email;
    proxy_set_header X-Vestibule-Identity $vestibule_identity;
    # The session cookie is Vestibule's: the upstream gets the token instead.
    proxy_set_header Cookie "";
  }

  # A page opened without a session goes to sign in; an API call keeps its 401.
  location @sign_in {
    if ($vestibule_login = "") { return 401; }
    return 302 $vestibule_login;
  }
}
`;
}

/** A Caddy site: the same layout with `forward_auth`. */
export function caddySite({ site, vestibule, api }) {
  return `${site} {
	# The check is the gateway's own: a browser never reaches it, nor anything under it.
	handle /auth/check* {
		respond 404
	}

	# The API, checked first.
	handle /api/* {
		route {
			forward_auth ${vestibule} {
				uri /auth/check
				copy_headers Authorization X-Auth-Request-User X-Auth-Request-Email X-Vestibule-Identity
				# A page opened without a session goes to sign in; an API call keeps its 401.
				@sign_in {
					status 401
					header Vestibule-Login *
				}
				handle_response @sign_in {
					redir {rp.header.Vestibule-Login} 302
				}
			}
			# Caddy 2.6 sets a header the check did not send (and the browser may have) to the
			# name of its placeholder: drop those. (Later versions drop them themselves.)
			@no_token header_regexp Authorization ^\\{http\\.reverse_proxy\\.header\\.
			request_header @no_token -Authorization
			@no_user header_regexp X-Auth-Request-User ^\\{http\\.reverse_proxy\\.header\\.
			request_header @no_user -X-Auth-Request-User
			@no_email header_regexp X-Auth-Request-Email ^\\{http\\.reverse_proxy\\.header\\.
			request_header @no_email -X-Auth-Request-Email
			@no_identity header_regexp X-Vestibule-Identity ^\\{http\\.reverse_proxy\\.header\\.
			request_header @no_identity -X-Vestibule-Identity
			reverse_proxy ${api} {
				# The session cookie is Vestibule's: the upstream gets the token instead.
				header_up -Cookie
			}
		}
	}

	# Vestibule: its endpoints (sign-in, callback, session, logout) and the app it serves.
	handle {
		reverse_proxy ${vestibule}
	}
}
`;
}

/** Debian's nginx serving `nginxSite` on 127.0.0.1:`port` (fixed: the IdP knows it). */
export async function startNginxGateway({ port, vestibulePort, apiPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-gateway-nginx-'));
  const site = nginxSite({ listen: `127.0.0.1:${port}`, vestibule: `127.0.0.1:${vestibulePort}`, api: `127.0.0.1:${apiPort}` });
  writeFileSync(join(dir, 'nginx.conf'), `${nginxHead(dir)}${site}}\n`);
  execFileSync(NGINX, ['-t', '-q', '-c', join(dir, 'nginx.conf'), '-p', dir]);
  const { child } = await startListening(() => nginx(dir), 'nginx (gateway)', port);
  const exited = new Promise((r) => { if (child.exitCode !== null) r(); else child.once('exit', r); });
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${origin}/healthz`)).status === 200, 'nginx (gateway)');
  return {
    origin,
    log: () => readFileSync(join(dir, 'error.log'), 'utf8'),
    stop: async () => { if (child.exitCode === null) { child.kill('SIGQUIT'); await exited; } },
  };
}

/** Debian's Caddy serving `caddySite` on 127.0.0.1:`port`, with no admin endpoint and no TLS. */
export async function startCaddyGateway({ port, vestibulePort, apiPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-gateway-caddy-'));
  const site = caddySite({ site: `http://127.0.0.1:${port}`, vestibule: `127.0.0.1:${vestibulePort}`, api: `127.0.0.1:${apiPort}` });
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, `{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n${site}`);
  const env = { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir };
  execFileSync('caddy', ['validate', '--config', file, '--adapter', 'caddyfile'], { env, stdio: 'pipe' });
  let log = '';
  const proc = await startListening(() => {
    const child = spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((r) => child.once('exit', r));
    return { child, stop: async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; } } };
  }, 'caddy (gateway)', port);
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${origin}/healthz`)).status === 200, 'caddy (gateway)');
  return { origin, log: () => log, stop: proc.stop };
}

/** The fenced blocks of `lang` in the manual's gateway page, in order. */
export function manualBlocks(lang) {
  const page = readFileSync(join(ROOT, 'docs/behind-a-gateway.md'), 'utf8');
  const blocks = [];
  const fence = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  for (let m = fence.exec(page); m; m = fence.exec(page)) blocks.push(m[1]);
  return blocks;
}
