// Starts Converse.js for the salon demo page.
//
// /config.json (written by scripts/lib/web.sh for the running stack) gives the WebSocket URL,
// the user domain, the project room and the demo accounts. Credentials come from the demo
// buttons, from Converse's own login form, or from the URL fragment
// `#[jid=...&password=...&]room=...` (used by the browser tests and the benchmark). The
// fragment never reaches the server; it is moved to sessionStorage at once, so a reload of the
// tab logs in again without keeping the password in the address bar.
// SPDX-License-Identifier: GPL-3.0-or-later

const KEY = 'salon-demo-login';

function takeLogin() {
  const hash = new URLSearchParams(location.hash.slice(1));
  // `#room=...` alone picks the room for a login through Converse's own form.
  if (hash.get('room')) sessionStorage.setItem(`${KEY}-room`, hash.get('room'));
  if (hash.get('jid')) {
    const login = { jid: hash.get('jid'), password: hash.get('password') || '' };
    sessionStorage.setItem(KEY, JSON.stringify(login));
  }
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  const stored = sessionStorage.getItem(KEY);
  return stored ? JSON.parse(stored) : null;
}

function showDemoButtons(accounts) {
  if (!accounts?.length) return;
  const bar = document.getElementById('salon-demo-bar');
  const holder = document.getElementById('salon-demo-accounts');
  for (const a of accounts) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${a.jid} (${a.role})`;
    b.addEventListener('click', () => {
      sessionStorage.setItem(KEY, JSON.stringify({ jid: a.jid, password: a.password }));
      location.reload();
    });
    holder.append(b);
  }
  bar.hidden = false;
}

async function whenConverseLoaded() {
  if (window.converse) return window.converse;
  return new Promise((resolve) =>
    window.addEventListener('converse-loaded', (e) => resolve(e.detail.converse), { once: true }));
}

const [cfg, converse] = await Promise.all([
  fetch('/config.json', { cache: 'no-store' }).then((r) => r.json()),
  whenConverseLoaded(),
]);
const login = takeLogin();
const room = sessionStorage.getItem(`${KEY}-room`) || cfg.room;
if (!login) showDemoButtons(cfg.demo_accounts);

// The page's own Converse plugin:
// - After a dropped connection, Converse 14 rejoins its rooms but keeps the members it listed
//   before, as they were (online): someone who left while the connection was down (e.g. during
//   an XMPP server restart) stays listed for good, as nobody will send their unavailable
//   presence again. So when Converse is about to reconnect, the room lists are emptied except
//   for oneself; the rejoin lists who is really there.
// - Converse's own reconnection normally takes ~2 s after an XMPP server restart, but it can
//   give up ("An error occurred while connecting") or stall when its attempts race the
//   server's shutdown. A watchdog logs in again (backing off up to 15 s) when the connection
//   has been down for 10 s after having been up, unless the user logged out.
// - After an XMPP server restart the page can be back before salond (the component serving
//   the rooms) is: a rejoin that reaches the server first bounces. ejabberd answers
//   remote-server-not-found, which Converse 14 shows as final; Prosody answers a `wait`-type
//   service-unavailable, which Converse ignores, leaving the room "connecting" for good.
//   Neither is retried, so `retryBouncedJoins` joins such a room again every 2 s for a minute.
// - Tests and the benchmark ask Converse's API what the room supports (e.g. MAM).
window.salonDemo = { cfg, room, jid: login?.jid || null, api: null };
// Returns a tick (called every second while connected) that rejoins rooms whose join bounced
// because the component was not reachable yet; see above. A join still pending after 5 s is
// treated the same way (salond answers a join in milliseconds), as is a room left in a state
// no answer will come for. Retries stop a minute after the first bounce, leaving Converse's
// error on screen.
function retryBouncedJoins(_converse) {
  const { ROOMSTATUS } = converse;
  const transient = new Set([
    _converse.__('Remote server not found'),
    // Converse's text for service-unavailable, which is what an absent component yields.
    _converse.__('This groupchat has reached its maximum number of participants.'),
  ]);
  // Where a room can rest for good: in it, or refused with a reason shown (a disconnection
  // with a message is handled above). Any other state lasting 5 s while connected is a join
  // that got lost: CONNECTING without an answer, or a state Converse shows as an empty pane
  // (CONNECTED, CLOSING, none; DISCONNECTED without a message). CI once ended with such a pane
  // after Converse's own reconnection raced the watchdog's login (page errors "reading
  // 'disconnection_cause'").
  const settled = new Set([ROOMSTATUS.ENTERED, ROOMSTATUS.NICKNAME_REQUIRED,
    ROOMSTATUS.PASSWORD_REQUIRED, ROOMSTATUS.DESTROYED, ROOMSTATUS.BANNED]);
  const since = new Map();  // room JID -> { first, last, pendingFrom }
  return () => {
    const now = Date.now();
    const rooms = _converse.state.chatboxes?.filter((m) => m.get('type') === 'chatroom') ?? [];
    for (const muc of rooms) {
      const jid = muc.get('jid');
      const status = muc.session.get('connection_status');
      const message = muc.session.get('disconnection_message');
      const s = since.get(jid) ?? { first: null, last: 0, pendingFrom: null };
      since.set(jid, s);
      const waiting = !settled.has(status) && (status !== ROOMSTATUS.DISCONNECTED || !message);
      if (!waiting) s.pendingFrom = null;
      if (status === ROOMSTATUS.ENTERED) { s.first = null; continue; }
      const bounced = status === ROOMSTATUS.DISCONNECTED && transient.has(message);
      if (waiting) s.pendingFrom ??= now;
      const stalled = waiting && now - s.pendingFrom >= 5_000;
      if (!bounced && !stalled) continue;
      s.first ??= now;
      if (now - s.first > 60_000 || now - s.last < 2_000) continue;
      s.last = now;
      s.pendingFrom = null;
      muc.rejoin();
    }
  };
}

// Converse 14's <converse-icon> resolves a `var(--…)` colour with getComputedStyle() each time
// it renders: a forced style recalculation per icon, and every message renders several. On the
// 2-CPU benchmark machine that was ~140 ms of a room's first render with 20 messages
// (bench/RESULTS.md, "join time"). The browser resolves var() in the inline style by itself,
// during the style pass it does anyway: same colour, no forced recalculation. Patched through
// Converse's element registry, which plugins see before the elements are defined.
function fastIcons(api) {
  const Icon = api.elements?.registry?.['converse-icon'];
  if (!Icon) return;
  Icon.prototype.getStyles = function getStyles() {
    const size = this.size ? `width: ${this.size}; height: ${this.size};` : '';
    return `${size}${this.color ? `fill: ${this.color};` : ''}${this.css}`;
  };
}

// Converse 14's message list (<converse-chat-content>) re-computes its virtual window on every
// message added to the room, reading scrollHeight/scrollTop: a forced layout per message. A
// page of 20 archived messages arriving in one go meant 20 layouts of a growing list, ~140 ms
// on the benchmark machine. The window only matters for the next frame, so the page computes it
// once per frame: same window, one layout.
function coalesceMessageWindow(api) {
  const perFrame = new Set(['add', 'remove', 'reset']);
  for (const tag of ['converse-chat-content', 'converse-muc-chat-content']) {
    const Base = api.elements?.registry?.[tag];
    if (!Base) continue;
    api.elements.define(tag, class extends Base {
      listenTo(obj, name, callback) {
        if (obj !== this.model?.messages || !perFrame.has(name)) return super.listenTo(obj, name, callback);
        let queued = false;
        return super.listenTo(obj, name, () => {
          if (queued) return;
          queued = true;
          requestAnimationFrame(() => { queued = false; callback(); });
        });
      }
    });
  }
}

converse.plugins.add('salon-demo', {
  initialize() {
    const { _converse } = this;
    const { api } = _converse;
    window.salonDemo.api = api;
    fastIcons(api);
    coalesceMessageWindow(api);
    api.listen.on('will-reconnect', () => {
      const rooms = _converse.state.chatboxes?.filter((m) => m.get('type') === 'chatroom') ?? [];
      for (const muc of rooms) {
        const own = muc.getOwnOccupant();
        muc.occupants.filter((o) => o !== own).forEach((o) => o.destroy());
      }
    });

    let wasUp = false, loggedOut = false, downSince = null, backoff = 10_000;
    const up = () => { wasUp = true; downSince = null; backoff = 10_000; };
    api.listen.on('connected', up);
    api.listen.on('reconnected', up);
    api.listen.on('logout', () => { loggedOut = true; });
    const retryJoins = retryBouncedJoins(_converse);
    setInterval(() => {
      if (api.connection.connected?.()) retryJoins();
      if (!wasUp || loggedOut || !login?.password) return;
      if (api.connection.connected?.()) { downSince = null; return; }
      downSince ??= Date.now();
      if (Date.now() - downSince < backoff) return;
      downSince = Date.now();
      backoff = Math.min(backoff * 1.5, 15_000);
      api.user.login(login.jid, login.password).catch(() => {});
    }, 1000);
  },
});

converse.initialize({
  whitelisted_plugins: ['salon-demo'],
  view_mode: 'fullscreen',
  // The private XMPP server's WebSocket endpoint; no discovery (XEP-0156) round trip.
  websocket_url: cfg.websocket_url,
  discover_connection_methods: false,
  default_domain: cfg.user_domain,
  muc_domain: cfg.muc_domain,
  ...(login ? { jid: login.jid, password: login.password, auto_login: true } : {}),
  // The project room opens at login; rooms the user bookmarked with autojoin open too.
  auto_join_rooms: room ? [room] : [],
  muc_respect_autojoin: true,
  // The room's reserved nick (the member's display name) wins over this fallback. Nicks are
  // managed by the project, so Converse must not try to register one (salond refuses it).
  muc_nickname_from_jid: true,
  auto_register_muc_nickname: false,
  // Converse 14 shows members from the affiliation lists as offline occupants, and when such a
  // member then joins, the presence carries an XEP-0421 occupant-id that Converse does not match
  // to the list entry: the member is listed twice (offline and online). Occupants come from
  // presence only; this also saves three IQ round trips per join.
  muc_fetch_members: false,
  // History comes from the room's archive (MAM), newest page first.
  archived_messages_page_size: String(cfg.mam_page_size || 50),
  auto_reconnect: true,
  allow_registration: false,
  allow_logout: true,
  clear_cache_on_logout: true,
  show_client_info: false,
  assets_path: '/',
  loglevel: cfg.loglevel || 'warn',
});
