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

function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}

/** The SSE blocks of `text`: `[events, rest]`, each event `{ name, data }`. */
export function parseBlocks(text) {
  const events = [];
  let rest = text.replace(/\r\n?/g, '\n');
  let end;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const name = /^event: ?(.*)$/m.exec(block)?.[1];
    const data = /^data: ?(.*)$/m.exec(block)?.[1];
    if (!name) continue;
    let parsed = {};
    try { parsed = data ? JSON.parse(data) : {}; } catch { /* a malformed event: no data */ }
    events.push({ name, data: parsed });
  }
  return [events, rest];
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
   * @param {string} o.channelName
   * @param {boolean} o.crossTab
   * @param {{ base?: number, cap?: number }} [o.backoff]
   * @param {{ request: Function }} [o.locks] Web Locks (`navigator.locks`).
   */
  constructor(o) {
    this.open = o.open;
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
        const ended = await this.read(res.body, signal);
        if (ended || signal.aborted) return;
      }
      failures = Date.now() - opened >= HEALTHY_MS ? 0 : failures + 1;
      const { base, cap } = this.backoff;
      const ceiling = Math.min(cap, base * 2 ** Math.min(failures, 20));
      await sleep(ceiling * (0.5 + Math.random() / 2), signal);
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
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        let events;
        [events, buffer] = parseBlocks(buffer + value);
        for (const e of events) {
          // Once stopped, nothing more is heard, not even the rest of a chunk already read.
          if (signal.aborted) return false;
          this.heard(e, true);
          if (e.name === 'session_ended') return true;
        }
      }
    } catch {
      return false;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}
