import type { SessionActions, SessionState, VestibuleClient } from './index.js';

/** The session, re-rendering on every change; create `client` once, outside the component. */
export function useSession(client: VestibuleClient): SessionState & SessionActions;
