// Browser tests: Converse.js 14 (deploy/web) in Debian's headless chromium against the private
// stack (scripts/stack up + web-up). Every assertion is on what the page shows.
//
//   node tests/browser/run.mjs [--suite full|two-user] [--only NAME]...
//
// Env: SALON_RUN_DIR (the stack), SALON_TEST_RESULTS (default .run/test-results). Writes
// browser-<server>.xml (JUnit) and screenshots/ there.
// SPDX-License-Identifier: GPL-3.0-or-later
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ROOT, launch, loadEnv, messageTexts, muc, newAccount, occupantNicks, occupantsProbe, openPerson,
  openPersonByForm, putProject,
  Skip, randomName, runSuite, send, skip, stack, waitMessage, waitOccupants, waitUsable,
} from './lib.mjs';
import { Profanity } from './native.mjs';

const { values: args } = parseArgs({
  options: { suite: { type: 'string', default: 'full' }, only: { type: 'string', multiple: true } },
});
const env = loadEnv();
const server = env.SALON_XMPP_SERVER;
const results = process.env.SALON_TEST_RESULTS || join(ROOT, '.run/test-results');
const NICK = { client: 'Cleo Client', designer: 'Dan Designer', third: 'Theo Third' };

const browser = await launch();
const accounts = {
  client: await newAccount(env, 'client'),
  designer: await newAccount(env, 'designer'),
  third: await newAccount(env, 'third'),
};

/** A fresh project room with the client and the designer as members. */
async function projectRoom(extra = []) {
  const id = randomName('proj');
  return putProject(env, id, [
    { jid: accounts.client.jid, name: NICK.client, role: 'client' },
    { jid: accounts.designer.jid, name: NICK.designer, role: 'designer' },
    ...extra,
  ]);
}

/**
 * Client and designer in `room`, each seeing both in the occupant list. With `typed`, the
 * designer logs in through Converse's login form instead of the page's fragment.
 */
async function enterBoth(t, room, { typed = false } = {}) {
  const a = await openPerson(browser, env, accounts.client, room, 'client');
  const b = await (typed ? openPersonByForm : openPerson)(browser, env, accounts.designer, room, 'designer');
  t.people = [a, b];
  for (const p of [a, b]) {
    await waitUsable(p.page, room);
    await waitOccupants(p.page, room, [NICK.client, NICK.designer], { exact: true });
  }
  return [a, b];
}

/** One message each way; each must show on the other side within `ms`. */
async function exchange(a, b, room, tag, ms = 10_000) {
  const t0 = Date.now();
  const left = () => Math.max(1, ms - (Date.now() - t0));
  const m1 = `${tag}: from the client ${randomName('')}`;
  await send(a.page, room, m1);
  await waitMessage(b.page, room, m1, left());
  const m2 = `${tag}: from the designer ${randomName('')}`;
  await send(b.page, room, m2);
  await waitMessage(a.page, room, m2, left());
  return [m1, m2];
}

/** Error notes Converse shows in the room: message errors and error info lines. */
async function errorsShown(page, room) {
  return page.$$eval(`${muc(room)} .chat-msg__error, ${muc(room)} .chat-error`,
    (els) => els.map((e) => e.textContent.trim()));
}

/** Still in the room, nothing to click: usable, no "you are out" notice, both occupants, no error. */
async function assertStillIn(p, room) {
  await waitUsable(p.page, room, 2_000);
  const out = await p.page.$$eval(`${muc(room)} converse-muc-disconnected`, (els) => els.length);
  if (out) throw new Error(`${p.label}: the room shows a disconnect notice`);
  await waitOccupants(p.page, room, [NICK.client, NICK.designer], { exact: true, timeout: 2_000 })
    .catch(async () => { throw new Error(`${p.label}: occupants ${JSON.stringify(await occupantNicks(p.page, room))}`); });
  const errors = await errorsShown(p.page, room);
  if (errors.length) throw new Error(`${p.label}: errors shown: ${JSON.stringify(errors)}`);
}

async function closeAll(t) {
  for (const p of t.people || []) {
    t.logs.push(...p.page.salonLog);
    await p.context.close().catch(() => {});
  }
}

/** Wraps a test body: contexts closed and console errors kept whatever happens. */
function test(name, fn, timeout = 60_000) {
  return {
    name, timeout, fn: async (t) => {
      try {
        await fn(t);
      } catch (e) {
        if (!(e instanceof Skip)) for (const p of t.people || []) await t.screenshot(p.page, `failed-${p.label}`);
        throw e;
      } finally {
        await closeAll(t);
      }
    },
  };
}

/** A restart of salond (SIGTERM or SIGKILL) must be invisible to both people in the room. */
function salondRestart(kill) {
  return async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    await exchange(a, b, room, 'before');
    await t.screenshot(a.page, 'before');
    await stack('restart-salond', ...(kill ? ['--kill'] : []));   // returns once /readyz is 200
    // Within 5 s of salond being back, a message each way, without any reload or click.
    const [m1, m2] = await exchange(a, b, room, 'after restart', 5_000);
    for (const p of [a, b]) await assertStillIn(p, room);
    // Nothing the senders sent after the restart vanished, nothing doubled.
    for (const p of [a, b]) {
      const texts = await messageTexts(p.page, room);
      for (const m of [m1, m2]) {
        const n = texts.filter((x) => x === m).length;
        if (n !== 1) throw new Error(`${p.label}: "${m}" shown ${n} times`);
      }
    }
    await t.screenshot(a.page, 'after-client');
    await t.screenshot(b.page, 'after-designer');
  };
}

const hasMam = (page, room) => page.evaluate(
  (room) => window.salonDemo.api.disco.supports('urn:xmpp:mam:2', room), room);

const TESTS = [
  test('two_users_chat', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room, { typed: true });
    await t.screenshot(a.page, 'entered');
    await exchange(a, b, room, 'hello');
    for (const p of [a, b]) await assertStillIn(p, room);
    await t.screenshot(a.page, 'chat-client');
    await t.screenshot(b.page, 'chat-designer');
  }),

  test('reload_shows_history', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    if (!(await hasMam(a.page, room))) {
      skip('the room does not advertise urn:xmpp:mam:2 (no archive plugin in this build)');
    }
    const sent = [...await exchange(a, b, room, 'one'), ...await exchange(a, b, room, 'two')];
    // A reload of the page (Converse's cache may help) ...
    await b.page.reload();
    await waitUsable(b.page, room);
    for (const m of sent) await waitMessage(b.page, room, m);
    // ... and a fresh profile, where history can only come from the archive.
    const c = await openPerson(browser, env, accounts.designer, room, 'designer-fresh');
    t.people.push(c);
    await waitUsable(c.page, room);
    for (const m of sent) await waitMessage(c.page, room, m);
    for (const p of [b, c]) {
      const texts = await messageTexts(p.page, room);
      for (const m of sent) {
        const n = texts.filter((x) => x === m).length;
        if (n !== 1) throw new Error(`${p.label}: "${m}" shown ${n} times after reload`);
      }
    }
    await t.screenshot(b.page, 'reloaded');
    await t.screenshot(c.page, 'fresh-profile');
  }),

  test('salond_sigterm_invisible', salondRestart(false)),
  test('salond_sigkill_invisible', salondRestart(true)),

  // While salond is down the server bounces what is sent to the room: the sender must see an
  // error on that message (never silence), and once salond is back the room works as before.
  test('message_while_salond_down_shows_error', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    await stack('stop-salond');
    try {
      const lost = `while down ${randomName('')}`;
      await send(a.page, room, lost);
      const err = a.page.locator(`${muc(room)} converse-chat-message:has-text("${lost}") .chat-msg__error`);
      await err.first().waitFor({ state: 'visible', timeout: 10_000 });
      await t.screenshot(a.page, 'error-shown');
    } finally {
      await stack('start-salond');
    }
    await exchange(a, b, room, 'after start', 5_000);
    for (const p of [a, b]) await waitUsable(p.page, room, 2_000);
  }),

  // A member closes their page while salond is down: salond restores them with the others, and
  // the first message bounced by the server from their gone resource removes them (ghost
  // removal). The others then no longer see them online.
  test('ghost_removed_after_salond_restart', async (t) => {
    const room = await projectRoom([{ jid: accounts.third.jid, name: NICK.third, role: 'client' }]);
    const [a, b] = await enterBoth(t, room);
    const c = await openPerson(browser, env, accounts.third, room, 'third');
    t.people.push(c);
    const three = [NICK.client, NICK.designer, NICK.third];
    for (const p of [a, b, c]) {
      await waitUsable(p.page, room);
      await waitOccupants(p.page, room, three, { exact: true });
    }
    await stack('stop-salond', '--kill');
    await c.context.close();
    await stack('start-salond');
    await exchange(a, b, room, 'after restart', 5_000);
    for (const p of [a, b]) {
      await p.page.waitForFunction(([room, nick, probe]) =>
        !(0, eval)(`(${probe})`)(room).some((o) => o.nick === nick && o.online),
      [room, NICK.third, occupantsProbe.toString()], { timeout: 10_000, polling: 100 })
        .catch(async () => { throw new Error(`${p.label}: occupants ${JSON.stringify(await occupantNicks(p.page, room))}`); });
      await waitUsable(p.page, room, 2_000);
    }
    await t.screenshot(a.page, 'after-client');
  }),

  // The XMPP server restarts; a third member closes their page meanwhile and never comes back.
  test('xmpp_server_restart_reconnects', async (t) => {
    const room = await projectRoom([{ jid: accounts.third.jid, name: NICK.third, role: 'client' }]);
    const [a, b] = await enterBoth(t, room);
    const c = await openPerson(browser, env, accounts.third, room, 'third');
    t.people.push(c);
    const three = [NICK.client, NICK.designer, NICK.third];
    for (const p of [a, b, c]) {
      await waitUsable(p.page, room);
      await waitOccupants(p.page, room, three, { exact: true });
    }
    await exchange(a, b, room, 'before');
    await stack('stop-xmpp');
    await c.context.close();
    await stack('start-xmpp');
    // Converse reconnects and rejoins by itself.
    for (const p of [a, b]) {
      await waitUsable(p.page, room, 30_000);
      await waitOccupants(p.page, room, [NICK.client, NICK.designer], { timeout: 15_000 });
    }
    await exchange(a, b, room, 'after server restart');
    // No ghost: the third member, gone with the old server, is not listed online.
    for (const p of [a, b]) {
      await waitOccupants(p.page, room, [NICK.client, NICK.designer], { exact: true, timeout: 10_000 })
        .catch(async () => { throw new Error(`${p.label}: occupants ${JSON.stringify(await occupantNicks(p.page, room))}`); });
      await assertStillIn(p, room);
    }
    await t.screenshot(a.page, 'after-client');
    await t.screenshot(b.page, 'after-designer');
  }, 90_000),

  // The XMPP server restarts and the pages are back before salond: their rejoins bounce
  // (ejabberd: remote-server-not-found; Prosody: a wait-type service-unavailable). Converse
  // does not retry those; the page's plugin does, so once salond is back both are in again.
  test('pages_back_before_salond_rejoin', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    await stack('stop-salond');
    try {
      await stack('restart-xmpp');
      for (const p of [a, b]) {
        // Reconnected to the XMPP server, and the room's rejoin got nowhere.
        await p.page.waitForFunction(() => window.salonDemo.api.connection.connected(), null,
          { timeout: 20_000, polling: 100 });
      }
      await sleep(2_500);
      for (const p of [a, b]) {
        const status = await p.page.evaluate(async (jid) =>
          (await window.salonDemo.api.rooms.get(jid))?.session.get('connection_status'), room);
        if (status === 5) throw new Error(`${p.label}: in the room while salond is down`);
      }
      await t.screenshot(a.page, 'bounced');
    } finally {
      await stack('start-salond');
    }
    for (const p of [a, b]) await waitUsable(p.page, room, 15_000);
    await exchange(a, b, room, 'after salond', 5_000);
    for (const p of [a, b]) {
      await waitOccupants(p.page, room, [NICK.client, NICK.designer], { exact: true, timeout: 10_000 });
      await assertStillIn(p, room);
    }
    await t.screenshot(a.page, 'after-client');
  }, 90_000),

  // A join Converse lost track of: the room left in a state no answer will come for, which
  // Converse shows as an empty pane (seen once after its reconnection raced the page's
  // watchdog). The page joins it again within seconds, without any user action.
  test('lost_join_is_retried', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    const textarea = b.page.locator(`${muc(room)} textarea.chat-textarea`);
    for (const status of [0, 8]) {  // ROOMSTATUS.CONNECTED, ROOMSTATUS.CLOSING
      await b.page.evaluate(async ([jid, s]) => {
        (await window.salonDemo.api.rooms.get(jid)).session.save('connection_status', s);
      }, [room, status]);
      await textarea.waitFor({ state: 'detached', timeout: 5_000 });
      await t.screenshot(b.page, `lost-${status}`);
      await waitUsable(b.page, room, 12_000);
    }
    await exchange(a, b, room, 'after the lost join', 5_000);
    await waitOccupants(a.page, room, [NICK.client, NICK.designer], { exact: true, timeout: 5_000 });
    await t.screenshot(b.page, 'rejoined');
  }),

  test('non_member_sees_error', async (t) => {
    const room = await projectRoom();
    const outsider = await newAccount(env, 'outsider');
    const o = await openPerson(browser, env, outsider, room, 'outsider');
    t.people = [o];
    const notice = o.page.locator(`${muc(room)} converse-muc-disconnected .disconnect-msg`).first();
    await notice.waitFor({ state: 'visible', timeout: 15_000 });
    const text = await notice.textContent();
    if (!/not on the member list/i.test(text)) throw new Error(`unexpected notice: ${text}`);
    // An error, not a spinner, and no way to type.
    const spinners = await o.page.locator(`${muc(room)} .spinner-grow`).count();
    const textareas = await o.page.locator(`${muc(room)} textarea.chat-textarea`).count();
    if (spinners || textareas) throw new Error(`spinner ${spinners}, textarea ${textareas}`);
    await t.screenshot(o.page, 'refused');
  }),

  test('removed_member_is_told_and_leaves', async (t) => {
    const room = await projectRoom();
    const [a, b] = await enterBoth(t, room);
    const id = room.split('@')[0];
    await putProject(env, id, [{ jid: accounts.client.jid, name: NICK.client, role: 'client' }]);
    const notice = b.page.locator(`${muc(room)} converse-muc-disconnected .disconnect-msg`).first();
    await notice.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await notice.textContent();
    if (!/affiliation change|removed/i.test(text)) throw new Error(`unexpected notice: ${text}`);
    if (await b.page.locator(`${muc(room)} textarea.chat-textarea`).count()) {
      throw new Error('the removed member can still type');
    }
    await waitOccupants(a.page, room, [NICK.client], { exact: true, timeout: 10_000 });
    await t.screenshot(b.page, 'removed');
    await t.screenshot(a.page, 'client-after');
  }),

  // A native client beside the browser: profanity (in tmux) joins under its reserved nick,
  // sends, and receives what the designer types in Converse.
  test('native_client_profanity', async (t) => {
    const nat = await newAccount(env, 'native');
    const room = await projectRoom([{ jid: nat.jid, name: 'Nat', role: 'client' }]);
    const prof = new Profanity(env, nat, 'Nat');
    try {
      await prof.start();
      await prof.type(`/join ${room}`);
      await prof.waitScreen(/You have joined the room as Nat\b/);
      const b = await openPerson(browser, env, accounts.designer, room, 'designer');
      t.people = [b];
      await waitUsable(b.page, room);
      await waitOccupants(b.page, room, ['Nat', NICK.designer]);
      const m1 = `from profanity ${randomName('')}`;
      await prof.type(m1);
      await waitMessage(b.page, room, m1);
      const m2 = `from converse ${randomName('')}`;
      await send(b.page, room, m2);
      await prof.waitScreen(new RegExp(`${NICK.designer}: ${m2}`));
      await t.screenshot(b.page, 'converse-side');
      writeFileSync(join(results, 'screenshots', `browser-${server}-native_client_profanity-screen.txt`), await prof.screen());
    } finally {
      await prof.stop();
    }
  }),
];

const TWO_USER = new Set(['two_users_chat']);
const chosen = args.suite === 'two-user' ? TESTS.filter((x) => TWO_USER.has(x.name)) : TESTS;
let failed = 1;
try {
  failed = await runSuite(`browser-${server}`, chosen, {
    xmlPath: join(results, `browser-${server}.xml`),
    shotDir: join(results, 'screenshots'),
    only: args.only,
  });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
