// A Chromium the test launches itself, with a user-data dir that outlives
// it, in a process group of its own: so a test can kill the whole browser
// (SIGKILL, as the OOM killer or a power cut would) and start it again on
// the same profile, which Playwright's own launcher does not allow.
import { chromium, type Browser, type BrowserContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.mjs';
import { liveGroups } from './fixtures';


const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A profile folder, removed by `remove()`. */
export class Profile {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-profile-'));

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnBrowser {
  /** When (Date.now()) Chromium wrote localStorage to disk, as seen from outside. */
  readonly commits: number[] = [];
  private watcher: NodeJS.Timeout;

  private constructor(
    private child: ChildProcess,
    readonly browser: Browser,
    profile: Profile,
  ) {
    // localStorage lives in a LevelDB under the profile: a commit appends
    // the changed entries (keys `_<origin>…`) to its write-ahead log. Other
    // appends (`METAACCESS:` times, written about once a minute) are not
    // commits of what pages wrote.
    const dir = path.join(profile.dir, 'Default', 'Local Storage', 'leveldb');
    const sizes = new Map<string, number>();
    this.watcher = setInterval(() => {
      let names: string[];
      try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith('.log'));
      } catch {
        return; // not created yet
      }
      for (const name of names) {
        const file = path.join(dir, name);
        const size = fs.statSync(file).size;
        const seen = sizes.get(name) ?? 0;
        if (size <= seen) continue;
        const added = Buffer.alloc(size - seen);
        const fd = fs.openSync(file, 'r');
        fs.readSync(fd, added, 0, added.length, seen);
        fs.closeSync(fd);
        sizes.set(name, size);
        if (added.includes('_http')) this.commits.push(Date.now());
      }
    }, 10);
  }

  /** Resolves once Chromium has committed localStorage to disk after `since`. */
  async committedAfter(since: number, timeoutMs = 90_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const commit = this.commits.find((t) => t > since);
      if (commit !== undefined) return commit;
      if (Date.now() > deadline) throw new Error(`Chromium committed nothing to disk in ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Starts Chromium on `profile` and connects to it over CDP. */
  static async launch(profile: Profile): Promise<OwnBrowser> {
    const child = spawn(
      CHROMIUM_PATH,
      [
        ...CHROMIUM_ARGS,
        '--headless=new',
        '--remote-debugging-port=0',
        `--user-data-dir=${profile.dir}`,
        // A relaunch after a kill is a normal start, not a "restore" offer.
        '--disable-session-crashed-bubble',
        '--hide-crash-restore-bubble',
        'about:blank',
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (child.pid) liveGroups.add(child.pid);
    let stderr = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium did not start in 20 s: ${stderr}`)), 20_000);
      child.stderr!.on('data', (d) => {
        stderr += d;
        const match = stderr.match(/DevTools listening on (ws:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited with ${code}: ${stderr}`));
      });
    });
    const browser = await chromium.connectOverCDP(endpoint);
    return new OwnBrowser(child, browser, profile);
  }

  /** The profile's own context (its localStorage is the profile's). */
  get context(): BrowserContext {
    return this.browser.contexts()[0];
  }

  /** SIGKILL to the whole browser (every process of it); resolves once all are gone. */
  async kill(): Promise<void> {
    clearInterval(this.watcher);
    const pid = this.child.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 10_000;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    liveGroups.delete(pid);
  }

  /** A normal close, then a kill of whatever is left. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => {});
    await this.kill();
  }
}
