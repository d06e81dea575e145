import type { ComputedRef } from 'vue';
import type { SessionActions, SessionState, VestibuleClient } from './index.js';

export type SessionRefs = { readonly [K in keyof SessionState]: ComputedRef<SessionState[K]> };

/** The session as refs; stops with the current component or effect scope (or with `stop()`). */
export function useSession(client: VestibuleClient): SessionRefs & SessionActions & { stop(): void };
