// Join time in a real browser (issue 5): the demo page (deploy/web, Converse.js 14) in Debian's
// headless chromium, N loads, each in a fresh browser (fresh profile: history can only come
// from the archive). Two figures per load, from the page's own clock (performance.now(), 0 =
// navigation start):
//   view→usable        room view shown (its heading rendered) → room usable
//   navigation→usable  navigation start → room usable
// "usable" = the message textarea enabled and topmost at its centre, and, when the room
// advertises MAM, the seeded history rendered.
//
//   node bench/join_time.mjs [--target salon|prosody-muc|both] [--loads 20] [--history 20]
//                            [--trace]
// --trace prints every load's WebSocket traffic (from the page's clock, relative to "view
// shown") to stderr: which part of the wait is the service and which is the browser.
//
// With `both` the loads alternate between the two targets, so that whatever else the machine
// does at the time weighs on both alike.
// salon: the room is provisioned on the running stack (scripts/stack up; web-up is not needed).
// prosody-muc: the baseline — a private Prosody with its own MUC + mod_muc_mam on free ports,
// configured like the stack's Prosody, started and stopped by this script.
// SPDX-License-Identifier: GPL-3.0-or-later
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT, launch, loadEnv, newAccount, pageUrl, putProject, randomName, runDir, send,
  usableProbe, waitMessage, waitUsable,
} from '../tests/browser/lib.mjs';

const { values: args } = parseArgs({ options: {
  target: { type: 'string', default: 'both' },
  loads: { type: 'string', default: '20' },
  history: { type: 'string', default: '20' },
  trace: { type: 'boolean', default: false },
} });
const LOADS = Number(args.loads), HISTORY = Number(args.history);
const PY = process.env.SALON_PYTHON || '/usr/bin/python3';

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

async function waitPort(port, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((res) => {
      const c = new net.Socket();
      c.once('connect', () => { c.destroy(); res(true); }).once('error', () => res(false)).connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

const children = [];
function start(cmd, argv) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'], detached: false });
  children.push(child);
  return child;
}
function stopChildren() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');   // only what we started
}
process.on('exit', stopChildren);

/** The page server (deploy/web/serve.py) with a config of our own. */
async function servePage(dir, cfg) {
  const file = join(dir, 'web.json');
  writeFileSync(file, JSON.stringify({ mam_page_size: 50, loglevel: 'warn', demo_accounts: [], ...cfg }));
  const port = await freePort();
  start(PY, [join(ROOT, 'deploy/web/serve.py'), String(port), file]);
  await waitPort(port);
  return `http://127.0.0.1:${port}/`;
}

/** Baseline: Prosody 0.12 with its own MUC and mod_muc_mam, in a private directory. */
async function prosodyBaseline(dir) {
  const [c2s, http] = [await freePort(), await freePort()];
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const cfg = join(dir, 'prosody.cfg.lua');
  writeFileSync(cfg, `-- join_time.mjs baseline; same settings as scripts/lib/prosody.sh plus a MUC.
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
log = { { levels = { min = "warn" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
http_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2s} }
http_ports = { ${http} }
https_ports = { }
s2s_ports = { }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
component_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
authentication = "internal_hashed"
modules_enabled = { "roster", "saslauth", "disco", "ping", "register", "bosh", "websocket" }
VirtualHost "localhost"
Component "muc.localhost" "muc"
    modules_enabled = { "muc_mam" }
    -- Like a salon room: persistent, non-anonymous, archived; created on first join.
    muc_room_locking = false
    muc_room_default_persistent = true
    muc_room_default_public_jids = true
    muc_room_default_public = false
    muc_log_by_default = true
    muc_log_all_rooms = true
`);
  start('prosody', ['-F', '--config', cfg]);
  await waitPort(c2s);
  await waitPort(http);
  const ctl = (...a) => execFileSync('prosodyctl', ['--config', cfg, ...a], { stdio: 'ignore' });
  const mk = (user) => { const password = `pw-${randomName('')}`; ctl('register', user, 'localhost', password); return { user, jid: `${user}@localhost`, password }; };
  const seeder = mk(randomName('seed')), joiner = mk(randomName('join'));
  const room = `${randomName('bench')}@muc.localhost`;
  const url = await servePage(dir, { websocket_url: `ws://127.0.0.1:${http}/xmpp-websocket`,
    user_domain: 'localhost', muc_domain: 'muc.localhost', room });
  return { url, room, seeder, joiner, env: { SALON_WEB_URL: url } };
}

/** salon: a project room on the running stack, the two accounts as members. */
async function salonTarget(dir) {
  const env = loadEnv();
  const seeder = await newAccount(env, 'seed'), joiner = await newAccount(env, 'join');
  const room = await putProject(env, randomName('bench'), [
    { jid: seeder.jid, name: 'Seeder', role: 'client' },
    { jid: joiner.jid, name: 'Joiner', role: 'designer' },
  ]);
  const url = await servePage(dir, { websocket_url: env.SALON_WEBSOCKET_URL,
    user_domain: env.SALON_USER_DOMAIN, muc_domain: env.SALON_COMPONENT_DOMAIN, room });
  return { url, room, seeder, joiner, env: { SALON_WEB_URL: url } };
}

// In the page, before any script of its own: timestamps of "view shown" and "usable".
function probeScript([room, usableSrc, wantHistory, trace]) {
  const usable = (0, eval)(`(${usableSrc})`);
  window.__join = { view: null, usable: null, frames: [] };
  if (trace) {
    const log = (dir, data) =>
      window.__join.frames.push([performance.now(), dir,
        String(data).replace(/\s+/g, ' ').replace(/(<auth[^>]*>)[^<]*/, '$1(redacted)').slice(0, 110)]);
    const Base = window.WebSocket;
    window.WebSocket = class extends Base {
      constructor(...a) { super(...a); this.addEventListener('message', (e) => log('<', e.data)); }
      send(data) { log('>', data); return super.send(data); }
    };
  }
  // Checked once per rendered frame (requestAnimationFrame, before the frame's layout): the
  // probe needs a layout (getBoundingClientRect, elementFromPoint), and forcing one on every
  // DOM mutation, as a MutationObserver did here before, cost the page ~275 ms of main-thread
  // time per load (profiled) and slowed the very rendering it measured. A frame is also the
  // unit a person sees.
  const check = () => {
    const j = window.__join;
    if (j.view === null) {
      const head = document.querySelector(`converse-muc[jid="${room}"] converse-muc-heading`);
      if (head && head.getBoundingClientRect().height > 0) j.view = performance.now();
    }
    if (j.view !== null) {
      const n = document.querySelectorAll(`converse-muc[jid="${room}"] converse-chat-message .chat-msg__text`).length;
      if (n >= wantHistory && usable(room)) { j.usable = performance.now(); return; }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** Sends HISTORY messages as the seeder through the page; records whether the room has MAM. */
async function seed(target) {
  const browser = await launch();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(pageUrl(target.env, target.seeder, target.room));
  await waitUsable(page, target.room, 30_000);
  for (let i = 0; i < HISTORY; i++) {
    const text = `history ${i} ${randomName('')}`;
    await send(page, target.room, text);
    await waitMessage(page, target.room, text);
  }
  target.mam = await page.evaluate((r) => window.salonDemo.api.disco.supports('urn:xmpp:mam:2', r), target.room);
  target.wantHistory = target.mam ? Math.min(HISTORY, 50) : 0;
  await browser.close();
}

/** One load of the joiner's page in a fresh browser: { view, usable } in ms from navigation. */
async function load(target) {
  const browser = await launch();   // a fresh profile every load
  try {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    await page.addInitScript(probeScript, [target.room, usableProbe.toString(), target.wantHistory, args.trace]);
    await page.goto(pageUrl(target.env, target.joiner, target.room));
    await page.waitForFunction(() => window.__join?.usable !== null, null, { timeout: 90_000, polling: 50 });
    return await page.evaluate(() => window.__join);
  } finally {
    await browser.close();
  }
}

const names = args.target === 'both' ? ['salon', 'prosody-muc'] : [args.target];
const targets = [];
for (const name of names) {
  const dir = join(runDir(), `bench-join-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const target = name === 'prosody-muc' ? await prosodyBaseline(dir) : await salonTarget(dir);
  Object.assign(target, { name, view: [], nav: [] });
  await seed(target);
  targets.push(target);
}
for (let i = 0; i < LOADS; i++) {
  for (const target of targets) {
    const j = await load(target);
    target.view.push(j.usable - j.view);
    target.nav.push(j.usable);
    console.error(`${target.name} load ${i + 1}: view→usable ${(j.usable - j.view).toFixed(0)} ms, navigation→usable ${j.usable.toFixed(0)} ms`);
    if (args.trace) {
      for (const [t, dir, text] of j.frames) console.error(`  ${(t - j.view).toFixed(0).padStart(6)} ms ${dir} ${text}`);
      console.error(`  ${'0'.padStart(6)} ms = view shown (${j.view.toFixed(0)} ms after navigation); usable at ${(j.usable - j.view).toFixed(0)} ms`);
    }
  }
}
stopChildren();
const f = (x) => `${x.toFixed(0)} ms`;
console.log('| target | history from MAM | view→usable p50 / p95 | navigation→usable p50 / p95 |');
console.log('|---|---|---|---|');
for (const t of targets) {
  const v = [pct(t.view, 50), pct(t.view, 95)], n = [pct(t.nav, 50), pct(t.nav, 95)];
  console.log(`| ${t.name} | ${t.mam ? `yes (${t.wantHistory} msgs)` : 'no (room lacks urn:xmpp:mam:2)'} | ${f(v[0])} / ${f(v[1])} | ${f(n[0])} / ${f(n[1])} |`);
}
console.log(`loads per target: ${LOADS}; history seeded: ${HISTORY}; load average after: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exit(0);
