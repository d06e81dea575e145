// Uses every export of @vestibule/client under `strict` with `skipLibCheck: false` (CI runs
// `tsc -p test/types`): a declaration that drifts from the code, or a type an app cannot use as
// documented, fails here.
import {
  createClient, createSessionStore, Unauthenticated, StepUpRequired, VestibuleError,
  type ClientOptions, type EndReason, type ListedSession, type LoginOptions, type Session,
  type SessionEvent, type SessionEvents, type SessionState, type SessionStatus, type SessionStore,
  type VestibuleClient,
} from '@vestibule/client';

const options: ClientOptions = { authPrefix: '/bff', csrfHeader: 'X-Requested-By', crossTab: false, backoff: { base: 100, cap: 1000 } };
const vestibule: VestibuleClient = createClient(options);
createClient();

// Apps and their tests construct the errors.
const down = new VestibuleError(503, 'session_store_unavailable', 'store down');
const net = new VestibuleError(0);
const signedOut = new Unauthenticated();
const ended = new Unauthenticated('not signed in', 'revoked');
const stepUp = new StepUpRequired({ loginUrl: '/auth/login?acr_values=mfa', acrValues: 'mfa', maxAge: 300 });
const bareStepUp = new StepUpRequired();
const errors: VestibuleError[] = [down, net, signedOut, ended, stepUp, bareStepUp];
const status: number = down.status;
const code: string | undefined = down.code;
const fromUnauthenticated: 401 = signedOut.status;
const why: EndReason | undefined = ended.reason;
const url: string = stepUp.loginUrl;
const acr: string | null = stepUp.acrValues;
const maxAge: number | null = stepUp.maxAge;

async function everyMethod(): Promise<void> {
  const session: Session | null = await vestibule.session();
  const polled: Session | null = await vestibule.session({ slide: false });
  const extended: Session = await vestibule.extend();
  const login: LoginOptions = { returnTo: '/orders', prompt: 'login', acrValues: 'mfa', maxAge: 0, loginHint: 'a', uiLocales: 'fr' };
  const href: string = vestibule.loginUrl(login);
  vestibule.login();
  vestibule.login({ prompt: 'select_account' });
  await vestibule.logout();
  const res: Response = await vestibule.api('/api/orders', { method: 'POST', body: '{}' });
  const list: ListedSession[] = await vestibule.sessions();
  const unknown = list.filter((s) => s.device === 'unknown').map((s) => s.created_at === null);
  await vestibule.endSession(list[0]?.handle ?? '');
  const count: number = await vestibule.endOtherSessions();
  const prefix: string = vestibule.authPrefix;
  void prefix;
  const stop: () => void = vestibule.onEvent((name, data) => {
    // Narrowing the name narrows the data.
    if (name === 'session_expiring') { const left: number = data.expires_in; void left; }
    if (name === 'session_ended') { const r: EndReason = data.reason; void r; }
  });
  const stopEnd: () => void = vestibule.onSessionEnd(({ reason }) => { const r: EndReason = reason; void r; });
  stop();
  stopEnd();
  try {
    await vestibule.sessions();
  } catch (e) {
    if (e instanceof StepUpRequired) location.assign(e.loginUrl);
    else if (e instanceof Unauthenticated) vestibule.login();
    else if (e instanceof VestibuleError && e.status === 503) void e.code;
  }
  void [session, polled, extended, href, res, unknown, count];
}

const event: SessionEvent = ['session_ended', { reason: 'frontchannel_logout' }];
const expiring: SessionEvents['session_expiring'] = { expires_at: 1, expires_in: 120, reason: 'idle' };
const store: SessionStore = createSessionStore(vestibule);
const state: SessionState = store.getSnapshot();
const statuses: SessionStatus[] = ['loading', 'signed-in', 'signed-out', 'step-up', 'error'];
const unsubscribe: () => void = store.subscribe(() => { void store.getSnapshot().expiring?.expiresIn; });
unsubscribe();
void store.refresh();
void store.extend();
void store.api('/api/x');

void [everyMethod, errors, status, code, fromUnauthenticated, why, url, acr, maxAge, event, expiring, state, statuses];
