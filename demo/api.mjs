// The demo API: a resource server behind Vestibule. It trusts nothing from the browser; it checks
// the bearer token Vestibule attached by asking the IdP's introspection endpoint (RFC 7662).
//
//   node demo/api.mjs --port 9200 --issuer http://127.0.0.2:9100
import { createServer } from 'node:http';

export const API_CLIENT_ID = 'demo-api';
export const API_CLIENT_SECRET = 'demo-api-secret';

/**
 * Starts the API; resolves to { port, close(), state }: `state.introspections` counts token
 * checks, `state.requests` every request that reached it.
 */
export async function startApi({ port = 9200, host = '127.0.0.1', issuer, strictPort = false }) {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const basic = Buffer.from(`${API_CLIENT_ID}:${API_CLIENT_SECRET}`).toString('base64');
  const state = { introspections: 0, requests: 0 };

  async function introspect(token) {
    state.introspections += 1;
    const res = await fetch(discovery.introspection_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    return res.ok ? res.json() : { active: false };
  }

  const server = createServer(async (req, res) => {
    state.requests += 1;
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization || '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
    if (!token) return send(401, { error: 'missing bearer token' });
    const info = await introspect(token).catch(() => ({ active: false }));
    if (!info.active) return send(401, { error: 'token not active' });
    // `/api/me`, and `/api/<area>/me` for routes of their own (an admin area, say).
    if (/^\/api\/(?:[a-z]+\/)?me(?:[?/]|$)/.test(req.url)) {
      return send(200, {
        message: `Hello ${info.sub}, this came from the API.`,
        sub: info.sub,
        scope: info.scope,
        client_id: info.client_id,
        token_active: true,
        saw_cookie: 'cookie' in req.headers,
        // Who a gateway in front said the user is (forward-auth: `X-Auth-Request-*`).
        forwarded_user: req.headers['x-auth-request-user'] ?? null,
        forwarded_email: req.headers['x-auth-request-email'] ?? null,
        forwarded_identity: req.headers['x-vestibule-identity'] ?? null,
      });
    }
    if (req.url.startsWith('/api/admin')) return send(200, { admin: true, sub: info.sub });
    return send(404, { error: 'not found' });
  });
  const listen = (p) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => { server.off('error', reject); resolve(); });
  });
  // A port taken since the caller picked it: another one (callers read `port`).
  await listen(port).catch((e) => { if (e.code !== 'EADDRINUSE' || !port || strictPort) throw e; return listen(0); });
  return {
    port: server.address().port,
    state,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
  const api = await startApi({ port: Number(arg('port', '9200')), issuer: arg('issuer', 'http://127.0.0.2:9100'), strictPort: true });
  console.log(`demo API listening on 127.0.0.1:${api.port}`);
}
