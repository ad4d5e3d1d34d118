// Helpers for the browser tests and the join-time benchmark: the private stack (stack.env,
// scripts/stack, the provisioning API), Debian's chromium via playwright-core, Converse.js DOM
// probes, and a minimal sequential test runner that writes JUnit XML.
// SPDX-License-Identifier: GPL-3.0-or-later
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const execFileP = promisify(execFile);

// ---- the stack ------------------------------------------------------------------------------

export function runDir() {
  return process.env.SALON_RUN_DIR || join(ROOT, '.run');
}

/** stack.env as an object (KEY='value' lines written by scripts/stack). Re-read after restarts. */
export function loadEnv() {
  const env = {};
  for (const line of readFileSync(join(runDir(), 'stack.env'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)='(.*)'$/);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Runs scripts/stack ARGS... against this run dir; resolves with stdout+stderr. */
export async function stack(...args) {
  const { stdout, stderr } = await execFileP(join(ROOT, 'scripts/stack'), args,
    { env: { ...process.env, SALON_RUN_DIR: runDir() }, timeout: 120_000 });
  return stdout + stderr;
}

export function randomName(prefix) {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

/** A new account on the XMPP server: { user, jid, password }. */
export async function newAccount(env, prefix) {
  const user = randomName(prefix);
  const password = `pw-${randomName('')}`;
  await stack('adduser', user, password);
  return { user, jid: `${user}@${env.SALON_USER_DOMAIN}`, password };
}

/** PUT /api/v1/projects/{id}; members: [{ jid, name, role }]. Returns the room JID. */
export async function putProject(env, id, members, name = `Project ${id}`) {
  const res = await fetch(`${env.SALON_HTTP_URL}/api/v1/projects/${id}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${env.SALON_API_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, description: 'browser test project', members }),
  });
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`PUT project ${id}: ${res.status} ${await res.text()}`);
  }
  return `${id}@${env.SALON_COMPONENT_DOMAIN}`;
}

// ---- the browser ----------------------------------------------------------------------------

// STACK-NOTES: Debian's chromium; every host but loopback resolves to nothing (Converse's login
// page links images on its web site and would wait on them). playwright-core gives every launch
// a fresh --user-data-dir and every context its own storage.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

export function launch() {
  return chromium.launch({ executablePath: process.env.SALON_CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS, headless: true });
}

/** The demo page logged in as `account`, joining `room` (URL fragment, see deploy/web/demo.js). */
export function pageUrl(env, account, room) {
  const p = new URLSearchParams({ jid: account.jid, password: account.password, room });
  return `${env.SALON_WEB_URL}#${p}`;
}

/** A browser context + page for one person; console errors are kept for failure reports. */
export async function openPerson(browser, env, account, room, label) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.salonLog = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') page.salonLog.push(`[${label}] ${m.text()}`); });
  page.on('pageerror', (e) => page.salonLog.push(`[${label}] pageerror ${e.message}`));
  await page.goto(pageUrl(env, account, room));
  return { context, page, account, label };
}

/** Like openPerson, but the person types their JID and password into Converse's login form. */
export async function openPersonByForm(browser, env, account, room, label) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.salonLog = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') page.salonLog.push(`[${label}] ${m.text()}`); });
  await page.goto(`${env.SALON_WEB_URL}#${new URLSearchParams({ room })}`);
  await page.locator('input[name="jid"]').fill(account.jid);
  await page.locator('input[name="password"]').fill(account.password);
  await page.locator('input[name="password"]').press('Enter');
  return { context, page, account, label };
}

// ---- Converse.js DOM ------------------------------------------------------------------------
// Converse renders one <converse-muc jid="..."> per room. In fullscreen mode the element itself
// has zero height, so visibility is judged from its children (STACK-NOTES).

export const muc = (room) => `converse-muc[jid="${room}"]`;

/** True when the room's message textarea is enabled and is the topmost element at its centre. */
export function usableProbe(room) {
  const sel = `converse-muc[jid="${room}"] textarea.chat-textarea`;
  const ta = document.querySelector(sel);
  if (!ta || ta.disabled) return false;
  const r = ta.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return top === ta || ta.contains(top);
}

export async function waitUsable(page, room, timeout = 20_000) {
  await page.waitForFunction(usableProbe, room, { timeout, polling: 50 });
}

/** The room's occupant list as shown: [{ nick, online }]. */
export function occupantsProbe(room) {
  return [...document.querySelectorAll(`converse-muc[jid="${room}"] converse-muc-sidebar li.occupant`)]
    .map((li) => ({
      nick: li.querySelector('.occupant-nick')?.textContent.trim(),
      online: li.querySelector('.chat-status')?.getAttribute('title') !== 'Offline',
    }));
}

export async function occupantNicks(page, room) {
  return (await page.evaluate(occupantsProbe, room)).map((o) => `${o.nick}${o.online ? '' : ' (offline)'}`);
}

/**
 * Until every nick in `nicks` is listed online. With `exact`, nobody else is listed online and
 * no nick is listed twice: an extra online entry or a second entry for a nick is a ghost.
 * (Members who left may stay listed as offline: Converse shows departed members that way.)
 */
export async function waitOccupants(page, room, nicks, { exact = false, timeout = 15_000 } = {}) {
  await page.waitForFunction(([room, want, exact, probe]) => {
    const have = (0, eval)(`(${probe})`)(room);
    const online = have.filter((o) => o.online).map((o) => o.nick);
    const all = want.every((n) => online.includes(n));
    if (!exact) return all;
    const nicks = have.map((o) => o.nick);
    return all && online.length === want.length && new Set(nicks).size === nicks.length;
  }, [room, nicks, exact, occupantsProbe.toString()], { timeout, polling: 100 });
}

/** Texts of the room's chat messages, in display order. */
export async function messageTexts(page, room) {
  return page.$$eval(`${muc(room)} converse-chat-message .chat-msg__text`,
    (els) => els.map((e) => e.textContent.trim()));
}

export async function waitMessage(page, room, text, timeout = 10_000) {
  await page.waitForFunction(([sel, text]) =>
    [...document.querySelectorAll(sel)].some((e) => e.textContent.trim() === text),
  [`${muc(room)} converse-chat-message .chat-msg__text`, text], { timeout, polling: 50 });
}

export async function send(page, room, text) {
  const ta = page.locator(`${muc(room)} textarea.chat-textarea`);
  await ta.fill(text);
  await ta.press('Enter');
}

// ---- runner ---------------------------------------------------------------------------------

function xmlEscape(s) {
  return String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' }[c]))
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

export class Skip extends Error {}
export const skip = (why) => { throw new Skip(why); };

/**
 * Runs tests [{ name, fn, timeout }] one after another; fn(t) gets t.screenshot(page, step).
 * Writes JUnit XML to `xmlPath`; prints one line per test. Resolves with the failure count.
 */
export async function runSuite(suite, tests, { xmlPath, shotDir, only }) {
  mkdirSync(shotDir, { recursive: true });
  mkdirSync(dirname(xmlPath), { recursive: true });
  const results = [];
  const started = Date.now();
  for (const test of tests) {
    if (only && !only.some((o) => test.name.includes(o))) continue;
    const t0 = Date.now();
    const t = {
      shots: [],
      async screenshot(page, step) {
        const file = join(shotDir, `${suite}-${test.name}-${step}.png`.replace(/[^A-Za-z0-9_.-]+/g, '_'));
        try { await page.screenshot({ path: file }); t.shots.push(file); } catch { /* page gone */ }
      },
      logs: [],
    };
    let status = 'passed', message = '';
    let timer;
    try {
      await Promise.race([
        test.fn(t),
        new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${test.timeout / 1000}s`)), test.timeout); }),
      ]);
    } catch (e) {
      if (e instanceof Skip) { status = 'skipped'; message = e.message; } else {
        status = 'failed';
        message = `${e.stack || e}\n${t.logs.slice(-30).join('\n')}`;
      }
    } finally {
      clearTimeout(timer);
    }
    const secs = (Date.now() - t0) / 1000;
    results.push({ name: test.name, status, message, secs, shots: t.shots });
    console.log(`${status === 'passed' ? 'ok  ' : status === 'skipped' ? 'skip' : 'FAIL'} ${test.name} (${secs.toFixed(1)}s)${status !== 'passed' ? `\n     ${message.split('\n').slice(0, 40).join('\n     ')}` : ''}`);
  }
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const total = (Date.now() - started) / 1000;
  const cases = results.map((r) => {
    const inner = r.status === 'failed' ? `<failure message="${xmlEscape(r.message.split('\n')[0])}">${xmlEscape(r.message)}</failure>`
      : r.status === 'skipped' ? `<skipped message="${xmlEscape(r.message)}"/>` : '';
    const out = r.shots.length ? `<system-out>${xmlEscape(r.shots.map((s) => `[[ATTACHMENT|${s}]]`).join('\n'))}</system-out>` : '';
    return `  <testcase classname="${suite}" name="${xmlEscape(r.name)}" time="${r.secs.toFixed(3)}">${inner}${out}</testcase>`;
  }).join('\n');
  writeFileSync(xmlPath, `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${suite}" tests="${results.length}" failures="${failed}" skipped="${skipped}" time="${total.toFixed(3)}">\n${cases}\n</testsuite>\n`);
  console.log(`${suite}: ${results.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped in ${total.toFixed(0)}s`);
  return failed;
}
