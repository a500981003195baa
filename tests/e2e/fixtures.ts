// Test fixtures: a real confab-proxy (serving the release build in dist/ and
// the offline model) started on a free loopback port for each test, and
// stopped afterwards, also when the test fails.
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

const root = path.resolve(__dirname, '../..');
const proxyBin = path.join(root, 'target/release/confab-proxy');
const dist = path.join(root, 'dist');

export class Proxy {
  private child: ChildProcess | null = null;
  url = '';

  constructor(private options: { tokenDelayMs: number; listen: string }) {}

  /** Starts the proxy and resolves once it prints its address. */
  async start(): Promise<void> {
    if (!fs.existsSync(proxyBin)) throw new Error(`${proxyBin} is missing: run make test`);
    if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run make test');
    const child = spawn(
      proxyBin,
      ['--listen', this.options.listen, '--dist', dist, '--echo-token-delay-ms', String(this.options.tokenDelayMs)],
      // No upstream: the built-in offline model answers.
      { env: { ...process.env, CONFAB_UPSTREAM_URL: '', CONFAB_UPSTREAM_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`confab-proxy did not start in 10 s: ${stderr}`)), 10_000);
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const match = out.match(/listening on (http:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`confab-proxy exited with ${code}: ${stderr}`));
      });
    });
    // From now on it listens on this exact address (a restart reuses it).
    this.options.listen = new URL(this.url).host;
  }

  /** Stops the proxy and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The chat page as a user sees it. */
export class ChatPage {
  constructor(readonly page: Page) {}

  get box(): Locator {
    return this.page.getByRole('textbox', { name: 'Message' });
  }
  get sidebar(): Locator {
    return this.page.getByRole('navigation', { name: 'Conversations' });
  }
  /** The text of each user message (without its author label). */
  get userMessages(): Locator {
    return this.page.locator('[data-role="user"] .text');
  }
  get replies(): Locator {
    return this.page.locator('[data-role="assistant"]');
  }
  get sessionButtons(): Locator {
    return this.sidebar.locator('.session');
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(url);
    await expect(this.box).toBeVisible();
  }

  /** Types `text` and presses Enter. */
  async send(text: string): Promise<void> {
    await this.box.fill(text);
    await this.box.press('Enter');
  }

  /** Waits until the newest reply has finished with `status`. */
  async lastReplyDone(status = 'complete'): Promise<Locator> {
    const last = this.replies.last();
    await expect(last).toHaveAttribute('data-status', status);
    return last;
  }

  async sessionTitles(): Promise<string[]> {
    return (await this.sessionButtons.allTextContents()).map((t) => t.trim());
  }
}

type Fixtures = { server: Proxy; chat: ChatPage; tokenDelayMs: number };

export const test = base.extend<Fixtures>({
  tokenDelayMs: [15, { option: true }],
  // Not named `proxy`: that is Playwright's own option for an HTTP proxy.
  server: async ({ tokenDelayMs }, use) => {
    const proxy = new Proxy({ tokenDelayMs, listen: '127.0.0.1:0' });
    await proxy.start();
    try {
      await use(proxy);
    } finally {
      await proxy.stop();
    }
  },
  chat: async ({ page, server }, use) => {
    const chat = new ChatPage(page);
    await chat.goto(server.url);
    await use(chat);
  },
});

export { expect };
