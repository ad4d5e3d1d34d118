// A native terminal XMPP client in the tests: Debian's profanity, driven through tmux on a
// private tmux socket (its own server, stopped by that socket only), with its own HOME so no
// user config is read or written. Reads what a person would see: the captured screen.
// SPDX-License-Identifier: GPL-3.0-or-later
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class Profanity {
  /** account: { jid, password }; nick: the MUC nick to use (muc.nick). */
  constructor(env, account, nick) {
    this.env = env;
    this.account = account;
    this.nick = nick;
    this.home = mkdtempSync(join(tmpdir(), 'salon-profanity-'));
    this.socket = `salon-prof-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  tmux(...args) {
    return run('tmux', ['-L', this.socket, ...args], { timeout: 10_000 });
  }

  async start() {
    const data = join(this.home, '.local/share/profanity');
    const config = join(this.home, '.config/profanity');
    mkdirSync(data, { recursive: true });
    mkdirSync(config, { recursive: true });
    const { jid, password } = this.account;
    // No TLS on the loopback test server (tls.policy=disable); SCRAM is used, not PLAIN.
    writeFileSync(join(data, 'accounts'), [
      `[${jid}]`, 'enabled=true', `jid=${jid}`, `server=${this.env.SALON_XMPP_HOST}`,
      `port=${this.env.SALON_C2S_PORT}`, `password=${password}`, 'resource=profanity',
      'tls.policy=disable', `muc.nick=${this.nick}`, '',
    ].join('\n'), { mode: 0o600 });
    writeFileSync(join(config, 'profrc'), '[connection]\nautoconnect.account=' + jid + '\n');
    const envs = [`HOME=${this.home}`, `XDG_CONFIG_HOME=${this.home}/.config`,
      `XDG_DATA_HOME=${this.home}/.local/share`, 'TERM=xterm-256color'];
    await this.tmux('new-session', '-d', '-s', 'prof', '-x', '220', '-y', '50',
      'env', ...envs, 'profanity', '-a', jid);
    await this.waitScreen(/logged in successfully/, 15_000);
  }

  async screen() {
    const { stdout } = await this.tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', 'prof');
    return stdout;
  }

  async waitScreen(re, timeout = 10_000) {
    const end = Date.now() + timeout;
    let last = '';
    while (Date.now() < end) {
      last = await this.screen();
      if (re.test(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`profanity: ${re} not on screen within ${timeout} ms; screen:\n${last.split('\n').filter((l) => l.trim()).slice(-25).join('\n')}`);
  }

  /** Types a line and presses Enter, as a person would. */
  async type(text) {
    await this.tmux('send-keys', '-t', 'prof', '-l', text);
    await this.tmux('send-keys', '-t', 'prof', 'Enter');
  }

  async stop() {
    await this.tmux('kill-server').catch(() => {});
    rmSync(this.home, { recursive: true, force: true });
  }
}
