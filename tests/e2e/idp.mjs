// A real, certified OpenID Provider (npm `oidc-provider`, panva) for the demo and the browser
// suite. Its devInteractions pages accept any login name and password.
//
//   node tests/e2e/idp.mjs [--host 127.0.0.2] [--port 9100] [--redirect http://127.0.0.1:8080[,…]] [--access-token-ttl 3600]
//
// The client is `vestibule` / `dev-secret-change-me` (as in config/development.toml).
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'vestibule';
export const CLIENT_SECRET = 'dev-secret-change-me';

/** Starts the IdP; resolves to { issuer, provider, counts, issued, close() }. */
/**
 * Starts the IdP. `frontchannel`: the client logs out by OIDC Front-Channel Logout only (as
 * LemonLDAP::NG and Entra ID do), not by back-channel. `groups`: each login's `groups` claim
 * (in the ID token, with the `profile` scope); any other login is in `users` only.
 */
export async function startIdp({
  host = '127.0.0.2', port = 9100, proxyOrigins = ['http://127.0.0.1:8080'], accessTokenTtl = 3600, strictPort = false,
  frontchannel = false, groups = { admin: ['admins', 'users'] },
} = {}) {
  // The socket is bound first and the issuer named after it: port 0 takes any free port, and a
  // port taken since a test picked it falls back to another one (tests read `issuer`).
  const server = createServer();
  const listen = (p) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => { server.off('error', reject); resolve(); });
  });
  await listen(port).catch((e) => { if (e.code !== 'EADDRINUSE' || !port || strictPort) throw e; return listen(0); });
  const issuer = `http://${host}:${server.address().port}`;
  // What the tests check: refreshes granted, and refresh errors (a reused rotated token is one).
  const counts = { refresh: 0, refreshErrors: 0, backchannelSent: 0, backchannelErrors: 0, frontchannelPages: 0 };
  const frontchannelLogoutUri = `${proxyOrigins[0]}/auth/frontchannel-logout`;
  const logoutChannel = frontchannel
    ? {}
    : { backchannel_logout_uri: `${proxyOrigins[0]}/auth/backchannel-logout`, backchannel_logout_session_required: true };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: proxyOrigins.map((o) => `${o}/auth/callback`),
      post_logout_redirect_uris: proxyOrigins.map((o) => `${o}/`),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // `auth_time` in every ID token (oidc-provider leaves it out unless max_age was asked):
      // routes with `max_auth_age` need it to know how old a sign-in is.
      require_auth_time: true,
      // Back-channel logout (unless `frontchannel`): the IdP tells Vestibule when the user's IdP
      // session ends.
      ...logoutChannel,
    }, {
      // The demo API: a resource server that only introspects tokens.
      client_id: 'demo-api',
      client_secret: 'demo-api-secret',
      redirect_uris: [],
      grant_types: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // PKCE for every client, not only public ones.
    pkce: { required: () => true },
    // Put profile and email claims in the ID token (not only at userinfo), so /auth/session has them.
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'sid'], profile: ['name', 'groups'], email: ['email', 'email_verified'] },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          // `no-email` signs in without an email address (a user some IdPs have).
          const email = id === 'no-email' ? {} : { email: `${id}@example.test`, email_verified: true };
          return { sub: id, name: `Demo user ${id}`, ...email, groups: groups[id] ?? ['users'] };
        },
      };
    },
    // A refresh token for every code grant (no offline_access/prompt=consent dance), rotated on
    // every use: reusing an old one makes oidc-provider revoke the whole grant.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    features: {
      backchannelLogout: { enabled: true },
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    cookies: { keys: ['vestibule-demo-idp-cookie-key'] },
    // oidc-provider refuses outgoing calls (back-channel logout) to special-use addresses such as
    // 127.0.0.1 as SSRF protection. Here everything lives on loopback by design, so its guard
    // (the request's dispatcher) is dropped. Never do this for a real deployment.
    fetch: (url, options) => {
      const { dispatcher: _loopbackGuard, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    ttl: { AccessToken: accessTokenTtl, IdToken: 3600, Session: 3600, Interaction: 600, Grant: 3600, RefreshToken: 3600 },
  });
  provider.on('grant.success', (ctx) => { if (ctx.oidc.params?.grant_type === 'refresh_token') counts.refresh += 1; });
  provider.on('grant.error', (ctx) => { if (ctx.oidc.params?.grant_type === 'refresh_token') counts.refreshErrors += 1; });
  // The expiry (`exp`, unix seconds) of the access token issued last: tests that need a token to
  // come due wait for that instant instead of a guessed figure. (Opaque tokens keep `exp` in
  // their stored payload only, computed as here just before: this is never earlier.)
  provider.on('access_token.saved', (token) => {
    counts.accessTokenExp = token.exp ?? Math.floor(Date.now() / 1000) + token.expiration;
  });
  provider.on('backchannel.success', () => { counts.backchannelSent += 1; });
  provider.on('backchannel.error', (_ctx, err) => { counts.backchannelErrors += 1; counts.lastBackchannelError = String(err?.message ?? err); });
  // Every token it hands out, as the token endpoint's answers carried them (oidc-provider's are
  // opaque here, so no pattern finds them: the tests look for these exact values).
  const issued = [];
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      for (const kind of ['access_token', 'refresh_token', 'id_token']) {
        if (typeof ctx.body[kind] === 'string') issued.push({ kind, value: ctx.body[kind] });
      }
    }
  });
  if (frontchannel) serveFrontchannelLogout(provider, issuer, frontchannelLogoutUri, counts);
  provider.proxy = false;
  server.on('request', provider.callback());
  return {
    issuer,
    provider,
    counts,
    issued,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/**
 * OIDC Front-Channel Logout 1.0, which oidc-provider does not implement: once a sign-out at the
 * IdP is confirmed, the page that follows loads Vestibule's front-channel logout URI (with `iss`
 * and the client's `sid`) in an iframe, as an IdP does for each relying party, and then goes on
 * where oidc-provider would have sent the browser.
 */
function serveFrontchannelLogout(provider, issuer, uri, counts) {
  // `frontchannel_logout_session_required`: the ID token carries `sid`, as it does for a
  // back-channel client (oidc-provider decides it from the back-channel metadata only).
  provider.Client.prototype.includeSid = () => true;
  provider.on('end_session.success', (ctx) => {
    const { session } = ctx.oidc;
    const sid = session.authorizations?.[CLIENT_ID] ? session.sidFor(CLIENT_ID) : null;
    if (sid) ctx.state.frontchannel = `${uri}?iss=${encodeURIComponent(issuer)}&sid=${encodeURIComponent(sid)}`;
  });
  provider.use(async (ctx, next) => {
    await next();
    const frame = ctx.state.frontchannel;
    if (!frame || ctx.status !== 303) return;
    const then = ctx.response.get('location');
    ctx.remove('location');
    ctx.status = 200;
    ctx.type = 'html';
    const attr = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    ctx.body = `<!doctype html><meta charset="utf-8"><title>Signing out</title>
<p>Signing you out of every application…</p>
<iframe id="rp" src="${attr(frame)}" title="sign-out" width="1" height="1"></iframe>
<script>
  const go = () => location.replace(${JSON.stringify(then)});
  document.getElementById('rp').addEventListener('load', () => setTimeout(go, 200));
  setTimeout(go, 3000);
</script>`;
    counts.frontchannelPages += 1;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const idp = await startIdp({
    host: arg('host', '127.0.0.2'),
    port: Number(arg('port', '9100')),
    proxyOrigins: arg('redirect', 'http://127.0.0.1:8080').split(','),
    accessTokenTtl: Number(arg('access-token-ttl', '3600')),
    // The demo's config names this port: never another one.
    strictPort: true,
  });
  console.log(`oidc-provider listening, issuer ${idp.issuer}`);
}
