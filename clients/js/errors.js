// The three ways a call to Vestibule is refused. Every method of the client rejects with one of
// them and nothing else, whatever the endpoint: the same answer gives the same error.

/** Any refusal of Vestibule itself (403 CSRF, 404, 503 store down, status 0: the network). */
export class VestibuleError extends Error {
  /**
   * @param {number} status
   * @param {string} [code] Vestibule's `error` code.
   * @param {string} [description]
   */
  constructor(status, code, description) {
    super(description || code || `HTTP ${status}`);
    this.name = 'VestibuleError';
    this.status = status;
    this.code = code;
  }
}

/** A call needed a signed-in user and there is none (401 `unauthenticated`). */
export class Unauthenticated extends VestibuleError {
  /**
   * @param {string} [message]
   * @param {string} [reason] Why the session ended, when Vestibule knows.
   */
  constructor(message = 'not signed in', reason) {
    super(401, 'unauthenticated', message);
    this.name = 'Unauthenticated';
    this.reason = reason;
  }
}

/** A route needs a stronger or more recent sign-in (401 `insufficient_user_authentication`). */
export class StepUpRequired extends VestibuleError {
  constructor({ loginUrl = '', acrValues = null, maxAge = null } = {}) {
    super(401, 'insufficient_user_authentication', 'a stronger or more recent sign-in is required');
    this.name = 'StepUpRequired';
    this.loginUrl = loginUrl;
    this.acrValues = acrValues;
    this.maxAge = maxAge;
  }
}

/**
 * The error for a refused answer (any status but 2xx). `own`: the answer is from one of
 * Vestibule's own endpoints, so any 401 means "not signed in"; else (an API route) only
 * Vestibule's own 401 codes are refusals, and `null` says the answer is the upstream's.
 */
export async function refusalOf(res, own = true) {
  let body = {};
  // Not JSON (an upstream's own answer, a proxy's error page): the status says enough.
  try { body = await res.clone().json(); } catch { /* keep {} */ }
  if (body === null || typeof body !== 'object') body = {};
  if (res.status === 401 && body.error === 'insufficient_user_authentication') {
    return new StepUpRequired({ loginUrl: body.login_url, acrValues: body.acr_values ?? null, maxAge: body.max_age ?? null });
  }
  if (res.status === 401 && (body.error === 'unauthenticated' || (own && body.error === undefined))) {
    return new Unauthenticated(body.error_description, body.reason);
  }
  if (!own) return null;
  return new VestibuleError(res.status, body.error, body.error_description);
}
