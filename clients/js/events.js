// The session's event stream (`/auth/events`), kept open for as long as someone listens.
//
// - It reconnects by itself: Vestibule closes every stream when it shuts down (a rolling
//   deploy), proxies drop idle connections, laptops sleep. Retries back off exponentially with
//   jitter, so that a restarted deployment is not hit by every browser at the same instant.
// - An end is never lost: a stream that cannot reopen because the session is gone (401) fires
//   `session_ended` with the reason Vestibule remembers, else `expired` when the session was
//   known to be due, else `unknown`.
// - One tab holds the stream for the whole browser (a Web Lock elects it; when it closes,
//   another takes over) and passes what it hears to the others (`BroadcastChannel`, else
//   `storage` events). Without Web Locks every tab opens its own.

/** Backoff between reconnections: `base * 2^n`, at most `cap`, times a random 0.5–1. */
const BACKOFF = { base: 500, cap: 10_000 };
/** A stream that stayed open this long was healthy: the next failure starts the backoff over. */
const HEALTHY_MS = 5_000;

/** `Retry-After` (seconds) of an answer, in milliseconds; 0 without one. */
function retryAfterMs(res) {
  const secs = Number(res?.headers?.get?.('retry-after'));
  return Number.isFinite(secs) && secs > 0 ? secs * 1000 : 0;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}

/** A line longer than this (no proxy sends one honestly) ends the stream; it reconnects. */
const MAX_LINE = 64 * 1024;

/**
 * Server-Sent Events, incrementally and in linear time: `push(text)` returns the events the
 * text completed (`{ name, data }`, data an object, `{}` when absent or not an object). Lines
 * end with LF, CRLF or CR, also when a CRLF is split between two chunks; several `data:` lines
 * join with LF (the HTML spec's rules).
 */
export class SseParser {
  constructor() {
    this.line = '';
    this.afterCr = false;
    this.name = '';
    this.data = [];
  }

  push(text) {
    const events = [];
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.afterCr && i === start) { start = i + 1; this.afterCr = false; continue; }
      this.line += text.slice(start, i);
      this.afterCr = c === 13;
      start = i + 1;
      const event = this.take(this.line);
      this.line = '';
      if (event) events.push(event);
    }
    if (start < text.length) {
      // A LF right after a CR that ended the previous chunk was skipped above.
      this.afterCr = false;
      this.line += text.slice(start);
    }
    if (this.line.length > MAX_LINE) throw new Error('event stream line too long');
    return events;
  }

  take(line) {
    if (line === '') {
      const event = this.name ? { name: this.name, data: parseData(this.data.join('\n')) } : null;
      this.name = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.name = value;
    else if (field === 'data') this.data.push(value);
    return null;
  }
}

function parseData(text) {
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Messages between this browser's tabs: a `BroadcastChannel`, else `storage` events. */
function openChannel(name, onMessage) {
  if (typeof BroadcastChannel === 'function') {
    const channel = new BroadcastChannel(name);
    channel.onmessage = (e) => onMessage(e.data);
    // Node (the unit tests) would otherwise stay alive for it.
    channel.unref?.();
    return { post: (m) => channel.postMessage(m), close: () => channel.close() };
  }
  const storage = (() => { try { return globalThis.localStorage ?? null; } catch { return null; } })();
  if (!storage || typeof addEventListener !== 'function') return null;
  const listener = (e) => {
    if (e.key !== name || !e.newValue) return;
    try { onMessage(JSON.parse(e.newValue).m); } catch { /* another writer's value */ }
  };
  addEventListener('storage', listener);
  return {
    post: (m) => {
      // A nonce, so that the same message twice is still a change (and an event).
      try { storage.setItem(name, JSON.stringify({ m, n: Math.random() })); storage.removeItem(name); } catch { /* full, or disabled */ }
    },
    close: () => removeEventListener('storage', listener),
  };
}

export class EventFeed {
  /**
   * @param {object} o
   * @param {(signal: AbortSignal) => Promise<Response>} o.open Opens `/auth/events`.
   * @param {() => Promise<string | null>} o.whoami The `sub` signed in now (null: nobody).
   * @param {string} o.channelName
   * @param {boolean} o.crossTab
   * @param {{ base?: number, cap?: number }} [o.backoff]
   * @param {{ request: Function }} [o.locks] Web Locks (`navigator.locks`).
   */
  constructor(o) {
    this.open = o.open;
    this.whoami = o.whoami;
    /** The `sub` the stream was first opened for. */
    this.owner = undefined;
    this.channelName = o.channelName;
    this.crossTab = o.crossTab;
    this.backoff = { ...BACKOFF, ...o.backoff };
    this.locks = o.locks ?? (o.crossTab ? globalThis.navigator?.locks : undefined);
    this.listeners = new Set();
    this.channel = null;
    this.running = null;
    /** Unix seconds the session was last said to end at (`session_expiring`). */
    this.dueAt = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    if (!this.running) this.start();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Tells the other tabs that this session ended here (a sign-out). */
  announceEnd(reason) {
    this.ensureChannel()?.post({ name: 'session_ended', data: { reason } });
  }

  ensureChannel() {
    if (!this.crossTab) return null;
    this.channel ??= openChannel(this.channelName, (m) => this.heard(m, false));
    return this.channel;
  }

  start() {
    const stop = new AbortController();
    this.running = stop;
    this.ensureChannel();
    if (!this.locks) {
      this.connect(stop.signal);
      return;
    }
    // Waits to lead: meanwhile this tab hears the leader's events on the channel.
    this.locks.request(`${this.channelName}:stream`, { signal: stop.signal }, () => this.connect(stop.signal))
      .catch(() => { /* stopped while waiting */ });
  }

  stop() {
    this.running?.abort();
    this.running = null;
    this.channel?.close();
    this.channel = null;
  }

  /** One event, from this tab's stream (`mine`) or another tab's. */
  heard(message, mine) {
    if (!this.running || !message || typeof message.name !== 'string') return;
    const { name, data = {} } = message;
    if (mine) this.channel?.post({ name, data });
    if (name === 'session_expiring' && typeof data.expires_at === 'number') this.dueAt = data.expires_at;
    for (const listener of [...this.listeners]) {
      try { listener(name, data); } catch (e) { setTimeout(() => { throw e; }); }
    }
    // The feed is over: whoever listens again (a new session) starts a fresh one.
    if (name === 'session_ended') {
      this.listeners = new Set();
      this.stop();
    }
  }

  /** Holds the stream until stopped or the session ends, reconnecting as needed. */
  async connect(signal) {
    for (let failures = 0; !signal.aborted;) {
      const opened = Date.now();
      let res = null;
      try { res = await this.open(signal); } catch { /* the network, or stopped */ }
      if (signal.aborted) return;
      if (res?.status === 401) {
        this.heard({ name: 'session_ended', data: { reason: await this.missedEnd(res) } }, true);
        return;
      }
      if (res?.ok && res.body) {
        // Whose stream this is: while disconnected, another tab may have signed in as someone
        // else, and the cookie (so this stream) is now theirs. This page's session is then over.
        const owner = await this.whoami().catch(() => undefined);
        if (signal.aborted) { res.body.cancel().catch(() => {}); return; }
        if (owner !== undefined) {
          this.owner ??= owner;
          if (owner !== this.owner) {
            res.body.cancel().catch(() => {});
            this.heard({ name: 'session_ended', data: { reason: 'replaced' } }, true);
            return;
          }
        }
        const ended = await this.read(res.body, signal);
        if (ended || signal.aborted) return;
      }
      failures = Date.now() - opened >= HEALTHY_MS ? 0 : failures + 1;
      const { base, cap } = this.backoff;
      const ceiling = Math.min(cap, base * 2 ** Math.min(failures, 20));
      // A server that says when to come back (429, 503) is heard, within reason.
      const asked = Math.min(cap * 6, retryAfterMs(res));
      await sleep(Math.max(asked, ceiling * (0.5 + Math.random() / 2)), signal);
    }
  }

  /** Why the session ended while no stream was open. */
  async missedEnd(res) {
    const reason = (await res.json().catch(() => ({})))?.reason;
    if (typeof reason === 'string') return reason;
    if (this.dueAt !== null && Date.now() / 1000 >= this.dueAt) return 'expired';
    return 'unknown';
  }

  /** Reads one stream to its end; true when the session ended. */
  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const cancel = () => reader.cancel().catch(() => {});
    signal.addEventListener('abort', cancel);
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        for (const e of parser.push(value)) {
          // Once stopped, nothing more is heard, not even the rest of a chunk already read.
          if (signal.aborted) return false;
          this.heard(e, true);
          if (e.name === 'session_ended') return true;
        }
      }
    } catch {
      cancel();
      return false;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}
