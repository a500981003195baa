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

  constructor(private options: { tokenDelayMs: number; listen: string; otlpUrl?: string }) {}

  /** Starts the proxy and resolves once it prints its address. */
  async start(): Promise<void> {
    if (!fs.existsSync(proxyBin)) throw new Error(`${proxyBin} is missing: run make test`);
    if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run make test');
    const child = spawn(
      proxyBin,
      [
        '--listen', this.options.listen,
        '--dist', dist,
        '--echo-token-delay-ms', String(this.options.tokenDelayMs),
        ...(this.options.otlpUrl ? ['--otlp-url', this.options.otlpUrl] : []),
      ],
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

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** One span as rotel prints it (`--debug-log traces --debug-log-verbosity detailed`). */
export type ReceivedSpan = {
  traceId: string;
  parentId: string;
  spanId: string;
  name: string;
  kind: string;
  status: string;
  attributes: Record<string, string>;
};

/**
 * rotel: a real OTLP/HTTP receiver (PyPI `rotel`, installed by setup.sh into
 * .tools/rotel) that prints every span it decodes; the tests read them back.
 */
export class Rotel {
  private child: ChildProcess | null = null;
  private output = '';
  url = '';

  async start(): Promise<void> {
    const bin = path.join(root, '.tools/rotel/lib/python3.11/site-packages/rotel/rotel-agent');
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run make test (scripts/setup.sh installs it)`);
    const [http, grpc] = [await freePort(), await freePort()];
    const child = spawn(
      bin,
      [
        'start',
        '--otlp-http-endpoint', `127.0.0.1:${http}`,
        '--otlp-grpc-endpoint', `127.0.0.1:${grpc}`,
        '--exporter', 'blackhole',
        '--debug-log', 'traces',
        '--debug-log-verbosity', 'detailed',
        '--pid-file', path.join(root, `target/rotel-${http}.pid`),
        '--log-file', path.join(root, `target/rotel-${http}.log`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    this.url = `http://127.0.0.1:${http}`;
    // Ready once it accepts a (empty) export.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const response = await fetch(`${this.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"resourceSpans":[]}',
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`rotel did not start: ${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

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

  /** Every span printed so far. */
  spans(): ReceivedSpan[] {
    const spans: ReceivedSpan[] = [];
    for (const block of this.output.split(/^Span #\d+$/m).slice(1)) {
      const field = (name: string) => (block.match(new RegExp(`^\\s*${name}\\s*: ?(.*)$`, 'm'))?.[1] ?? '').trim();
      const attributes: Record<string, string> = {};
      const attrs = block.split(/^Attributes:$/m)[1] ?? '';
      // The attribute lines follow at once; the first other line ends them.
      for (const line of attrs.split('\n').slice(1)) {
        const match = line.match(/^\s*-> ([^:]+): (.*)$/);
        if (!match) break;
        attributes[match[1]] = match[2];
      }
      spans.push({
        traceId: field('Trace ID'),
        parentId: field('Parent ID'),
        spanId: field('ID'),
        name: field('Name'),
        kind: field('Kind'),
        status: field('Status code'),
        attributes,
      });
    }
    return spans;
  }
}

type Fixtures = { server: Proxy; chat: ChatPage; tokenDelayMs: number; otlpUrl: string | undefined };

export const test = base.extend<Fixtures>({
  tokenDelayMs: [15, { option: true }],
  otlpUrl: [undefined, { option: true }],
  // Not named `proxy`: that is Playwright's own option for an HTTP proxy.
  server: async ({ tokenDelayMs, otlpUrl }, use) => {
    const proxy = new Proxy({ tokenDelayMs, listen: '127.0.0.1:0', otlpUrl });
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
