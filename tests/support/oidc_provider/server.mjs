// A real OpenID Connect provider on loopback for Maestrist's sign-in tests, built on
// oidc-provider. Development-only: in-memory storage, a key made at start, and the
// package's own login and consent pages (devInteractions), which accept any login name
// and any password.
//
// Started by tests/support/oidc.py (`run_oidc_provider`); it can also be run by hand:
//
//   OIDC_REDIRECT_URIS=http://127.0.0.1:8000/auth/callback node server.mjs 3210
//
// It prints exactly one line to stdout, `READY <issuer>`, once it listens; errors go to
// stderr. Set OIDC_VERBOSE=1 to see oidc-provider's own notices and every failed request.
//
// Environment:
//   OIDC_PORT                       port on 127.0.0.1 (or argv[2]); 0 (default) picks a free one
//   OIDC_REDIRECT_URIS              comma-separated redirect_uris of the client (required)
//   OIDC_POST_LOGOUT_REDIRECT_URIS  comma-separated post_logout_redirect_uris of the client
//   OIDC_ACCESS_TOKEN_TTL           access-token lifetime in seconds (default 60)
//   OIDC_ID_TOKEN_TTL               id-token lifetime in seconds (default: the access-token one)
//   OIDC_REFRESH_TOKEN_TTL          refresh-token lifetime in seconds (default 86400)
//   OIDC_CLOCK_TOLERANCE            seconds of grace on expiry checks (default 0; oidc-provider's
//                                   own default, 15, would hide the expiry of short-lived tokens)
//   OIDC_ACCOUNTS                   JSON object: login name -> claims (and `sub`), merged over the
//                                   built-in table, e.g. {"carol": {"email": "c@example.org"}}
//   OIDC_EXIT_WITH_PARENT=1         exit when stdin closes (so an orphaned server never lingers)
//   OIDC_TOKEN_AUTH_METHOD          client_secret_basic or client_secret_post: the only client
//                                   authentication the token and revocation endpoints take and
//                                   discovery advertises (default: both)
//
// Accounts: the login name typed into the login form picks an account; its subject is
// `sub-<login>` (or the `sub` given in OIDC_ACCOUNTS). Unknown login names become accounts
// too (email `<login>@example.com`, verified), so tests can make fresh users freely.
//
// Refresh tokens: issued to every authorization-code exchange of a client allowed the
// refresh_token grant, with or without `offline_access` (like Keycloak). Without
// `offline_access` (oidc-provider drops that scope unless the request also says
// prompt=consent) the refresh token ends with the provider's session: RP-initiated logout
// revokes it. Refresh tokens rotate on every use; replaying a used one revokes the grant.
//
// `kc_idp_hint` (Keycloak's identity-provider hint) is accepted on the authorization
// endpoint, otherwise ignored, and echoed into the id_token as the claim `idp_hint`.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';

const VERBOSE = process.env.OIDC_VERBOSE === '1';

// oidc-provider announces development-only settings (and, on Node 20, "Unsupported
// runtime") through console.info/console.warn with these prefixes. Keep stdout for the
// READY line alone and stderr for real errors. Installed before oidc-provider is imported.
if (!VERBOSE) {
  for (const method of ['info', 'warn']) {
    const original = console[method].bind(console);
    console[method] = (...args) => {
      if (typeof args[0] === 'string' && /^(\x1b\[[0-9;]*m)?oidc-provider (NOTICE|WARNING): /.test(args[0])) {
        return;
      }
      original(...args);
    };
  }
}

const { default: Provider } = await import('oidc-provider');

const CLIENT_ID = 'maestrist';
const CLIENT_SECRET = 'maestrist-secret';
const HOST = '127.0.0.1';

function fail(message) {
  console.error(`oidc test provider: ${message}`);
  process.exit(2);
}

function seconds(name, fallback, minimum = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) fail(`${name} must be a whole number of seconds >= ${minimum}, got ${raw}`);
  return value;
}

function list(name) {
  return (process.env[name] ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

function htmlEscape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const portText = process.argv[2] ?? process.env.OIDC_PORT ?? '0';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${portText}`);

const redirectUris = list('OIDC_REDIRECT_URIS');
if (redirectUris.length === 0) fail('OIDC_REDIRECT_URIS must name at least one redirect URI');
const postLogoutRedirectUris = list('OIDC_POST_LOGOUT_REDIRECT_URIS');

const accessTtl = seconds('OIDC_ACCESS_TOKEN_TTL', 60);
const idTokenTtl = seconds('OIDC_ID_TOKEN_TTL', accessTtl);
const refreshTtl = seconds('OIDC_REFRESH_TOKEN_TTL', 24 * 60 * 60);
const clockTolerance = seconds('OIDC_CLOCK_TOLERANCE', 0, 0);
const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'];
const onlyAuthMethod = process.env.OIDC_TOKEN_AUTH_METHOD || undefined;
if (onlyAuthMethod !== undefined && !SECRET_METHODS.includes(onlyAuthMethod)) {
  fail(`OIDC_TOKEN_AUTH_METHOD must be one of ${SECRET_METHODS.join(', ')}, got ${onlyAuthMethod}`);
}

// ---- accounts -------------------------------------------------------------------------

const BUILT_IN_ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Example' },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob Example' },
  unverified: { email: 'unverified@example.com', email_verified: false, name: 'Unverified Example' },
};

let extraAccounts = {};
if (process.env.OIDC_ACCOUNTS) {
  try {
    extraAccounts = JSON.parse(process.env.OIDC_ACCOUNTS);
  } catch (err) {
    fail(`OIDC_ACCOUNTS is not JSON: ${err.message}`);
  }
  if (typeof extraAccounts !== 'object' || extraAccounts === null || Array.isArray(extraAccounts)) {
    fail('OIDC_ACCOUNTS must be a JSON object of login name -> claims');
  }
}

function defaultClaims(login) {
  return { email: `${login}@example.com`, email_verified: true, name: login };
}

// login name -> claims (and maybe `sub`); what an entry leaves out takes the defaults
const accountsByLogin = new Map();
for (const [login, claims] of Object.entries({ ...BUILT_IN_ACCOUNTS, ...extraAccounts })) {
  accountsByLogin.set(login, { ...defaultClaims(login), ...BUILT_IN_ACCOUNTS[login], ...claims });
}

function subjectFor(login) {
  const known = accountsByLogin.get(login);
  if (known?.sub) return known.sub;
  return login.startsWith('sub-') ? login : `sub-${login}`;
}

function accountClaims(sub) {
  for (const [login, claims] of accountsByLogin) {
    if (subjectFor(login) === sub) return { login, ...claims };
  }
  if (sub.startsWith('sub-') && sub.length > 4) {
    const login = sub.slice(4);
    return { login, ...defaultClaims(login) };
  }
  return undefined;
}

// ---- kc_idp_hint -> id_token claim idp_hint --------------------------------------------

// grantId -> the kc_idp_hint of the latest authorization request that issued a code for it.
const idpHintByGrant = new Map();

async function findAccount(ctx, sub, token) {
  const found = accountClaims(sub);
  if (!found) return undefined;
  const { login, sub: _ignored, ...stored } = found;
  const grantId = token?.grantId;
  return {
    accountId: sub,
    async claims(use) {
      const claims = {
        sub,
        preferred_username: login,
        picture: `https://example.com/avatars/${encodeURIComponent(login)}.png`,
        ...stored,
      };
      const hint = grantId ? idpHintByGrant.get(grantId) : undefined;
      if (use === 'id_token' && hint !== undefined) claims.idp_hint = hint;
      return claims;
    },
  };
}

// ---- the provider ------------------------------------------------------------------------

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'maestrist-test-key', alg: 'RS256', use: 'sig' };

function page(ctx, title, body) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head><body>${body}</body></html>`;
}

const configuration = {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      // oidc-provider takes client_secret_post as well, treating the two as interchangeable;
      // OIDC_TOKEN_AUTH_METHOD makes it take only one (see the middleware below).
      token_endpoint_auth_method: onlyAuthMethod ?? 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
    },
  ],
  clientAuthMethods: onlyAuthMethod ? [onlyAuthMethod] : SECRET_METHODS,
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub', 'idp_hint'],
    email: ['email', 'email_verified'],
    profile: ['name', 'picture', 'preferred_username'],
  },
  // Put the scope-requested claims (email, name, ...) in the id_token too, not only at userinfo.
  conformIdTokenClaims: false,
  extraParams: ['kc_idp_hint'],
  findAccount,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  clockTolerance,
  ttl: {
    AccessToken: accessTtl,
    IdToken: idTokenTtl,
    RefreshToken: refreshTtl,
  },
  cookies: { keys: ['maestrist-oidc-test-cookie-key'] },
  jwks: { keys: [signingKey] },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // The same shape as oidc-provider's default page: a form holding `xsrf`, and a
      // `logout=yes` button outside it that names the form.
      async logoutSource(ctx, form) {
        page(ctx, 'Logout Request', `<h1>Do you want to sign out?</h1>${form}`
          + '<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>'
          + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
      },
      async postLogoutSuccessSource(ctx) {
        page(ctx, 'Sign-out Success', '<h1>Sign-out Success</h1>');
      },
    },
  },
  async renderError(ctx, out) {
    page(ctx, 'oops! something went wrong', `<h1>oops! something went wrong</h1><pre id="error">${htmlEscape(JSON.stringify(out))}</pre>`);
  },
};

// Listen first, so that port 0 gives a free port without a race, then make the provider
// with the issuer that names the real port.
const server = createServer();
server.on('error', (err) => fail(`cannot listen on ${HOST}:${port}: ${err.message}`));
await new Promise((resolve) => { server.listen(port, HOST, resolve); });
const issuer = `http://${HOST}:${server.address().port}`;

const provider = new Provider(issuer, configuration);

// With OIDC_TOKEN_AUTH_METHOD, a client authenticating the other way is refused, as a provider
// supporting only that method would: an Authorization header is client_secret_basic, a secret
// without one can only be client_secret_post.
if (onlyAuthMethod !== undefined) {
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ['/token', '/token/revocation'].includes(ctx.path)) {
      const basic = ctx.headers.authorization !== undefined;
      if (basic !== (onlyAuthMethod === 'client_secret_basic')) {
        ctx.status = 401;
        ctx.body = { error: 'invalid_client', error_description: `only ${onlyAuthMethod} is supported` };
        return;
      }
    }
    await next();
  });
}

// The dev login form takes a login name; the session, grants and tokens use the subject.
const interactionFinished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  if (result?.login?.accountId) {
    result.login.accountId = subjectFor(result.login.accountId);
  }
  return interactionFinished(req, res, result, options);
};

provider.on('authorization_code.saved', (code) => {
  const hint = Provider.ctx?.oidc?.params?.kc_idp_hint;
  if (hint) {
    idpHintByGrant.set(code.grantId, String(hint));
  } else {
    idpHintByGrant.delete(code.grantId);
  }
});

provider.on('server_error', (_ctx, err) => {
  console.error('oidc test provider: server_error', err);
});
if (VERBOSE) {
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'revocation.error', 'userinfo.error', 'introspection.error']) {
    provider.on(event, (_ctx, err) => console.error(`oidc test provider: ${event}: ${err.message} ${err.error_description ?? ''}`));
  }
}

// Check the client's metadata (redirect URIs, ...) now rather than at the first request.
try {
  await provider.Client.find(CLIENT_ID);
} catch (err) {
  fail(`invalid client configuration: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
}

server.on('request', provider.callback());

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.OIDC_EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

process.stdout.write(`READY ${issuer}\n`);
