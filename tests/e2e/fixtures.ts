// Test fixtures: a real confab-proxy (serving the release build in dist/ and
// the offline model) started on a free loopback port for each test, and
// stopped afterwards, also when the test fails.
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';

const root = path.resolve(__dirname, '../..');
const proxyBin = path.join(root, 'target/release/confab-proxy');
const dist = path.join(root, 'dist');

const axePath = path.join(root, 'node_modules/axe-core/axe.min.js');

/** Runs axe-core on the page as it is; fails on serious or critical violations. */
export async function expectAccessible(page: Page, view: string): Promise<void> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<any> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 5),
    }));
  });
  const severe = violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe, `axe-core: serious or critical violations in the ${view} view`).toEqual([]);
}

export class Proxy {
  private child: ChildProcess | null = null;
  url = '';
  /** Signs this proxy's identity cookies; kept across its restarts (so
   * identities survive them, as with a key file), and given by
   * environment so that no test writes a key file under $HOME. */
  private readonly identityKey = randomBytes(32).toString('hex');

  constructor(
    private options: {
      tokenDelayMs: number;
      listen: string;
      otlpUrl?: string;
      /** An OpenAI-compatible base URL (e.g. `http://127.0.0.1:P/v1`); none = offline model. */
      upstreamUrl?: string;
      /** Sent upstream as a Bearer key; given by environment, as in production. */
      upstreamKey?: string;
      /** The model used when a request names none (`--default-model`). */
      defaultModel?: string;
      /** An ADK api_server that `/adk/` relays to (`--adk-url`). */
      adkUrl?: string;
      /** Take identities from this request header instead of a cookie
       * (`--trust-user-header`), as behind an authenticating proxy. */
      trustUserHeader?: string;
      /** The built app to serve (`--dist`); the release build in dist/ by default. */
      dist?: string;
    },
  ) {}

  /** Everything the proxy has logged (one `request` line per request), across restarts. */
  log = '';

  /** Serves another build from the next start on (as a deploy would). */
  useDist(dir: string): void {
    this.options.dist = dir;
  }

  /** The requests logged so far: path, status and body bytes sent. */
  requests(): { path: string; status: number; bytes: number }[] {
    return [...this.log.matchAll(/ request .*?path="?([^"\s]+)"? status=(\d+) .*?bytes=(\d+)/g)].map((m) => ({
      path: m[1],
      status: Number(m[2]),
      bytes: Number(m[3]),
    }));
  }

  /** Starts the proxy and resolves once it prints its address. */
  async start(): Promise<void> {
    if (!fs.existsSync(proxyBin)) throw new Error(`${proxyBin} is missing: run make test`);
    const served = this.options.dist ?? dist;
    if (!fs.existsSync(path.join(served, 'index.html'))) throw new Error(`${served}/index.html is missing: run make test`);
    const child = spawn(
      proxyBin,
      [
        '--listen', this.options.listen,
        '--dist', served,
        '--echo-token-delay-ms', String(this.options.tokenDelayMs),
        ...(this.options.otlpUrl ? ['--otlp-url', this.options.otlpUrl] : []),
        ...(this.options.defaultModel ? ['--default-model', this.options.defaultModel] : []),
        ...(this.options.adkUrl ? ['--adk-url', this.options.adkUrl] : []),
        ...(this.options.trustUserHeader ? ['--trust-user-header', this.options.trustUserHeader] : []),
      ],
      // By default no upstream: the built-in offline model answers. The key
      // goes by environment only, as in production, so it is never on a
      // command line (or in the page).
      {
        env: {
          ...process.env,
          CONFAB_UPSTREAM_URL: this.options.upstreamUrl ?? '',
          CONFAB_UPSTREAM_API_KEY: this.options.upstreamKey ?? '',
          CONFAB_IDENTITY_KEY: this.identityKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
      this.log += d;
    });
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

// ---------------------------------------------------------------------------
// Third-party model peers (installed by scripts/setup.sh under .tools/).
// Each runs in a process group of its own (spawn's `detached`), so stopping it
// also ends any worker it forked; groups still alive when this process exits
// (a crashed run) are killed then, so no server outlives the tests.

/** Process groups to kill should this process exit first (used by own-browser.ts too). */
export const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A peer process with its own process group (also `trunk serve`, offline.spec.ts); keeps the tail of its output for error messages. */
export class PeerProcess {
  private output = '';

  private constructor(readonly child: ChildProcess) {
    const keep = (d: Buffer) => {
      // The tail is what explains a failure; the rest would only use memory.
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  static spawn(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): PeerProcess {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run make test (scripts/setup.sh installs it)`);
    const child = spawn(bin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) liveGroups.add(child.pid);
    return new PeerProcess(child);
  }

  get log(): string {
    return this.output;
  }

  /** Polls `url` until it answers 2xx, the process dies, or `timeoutMs` passes. */
  async waitReady(name: string, url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${name} exited during startup (${this.child.exitCode ?? this.child.signalCode}): ${this.output}`);
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${name} was not ready in ${timeoutMs / 1000} s: ${this.output}`);
      await sleep(100);
    }
  }

  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the group is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    const pid = this.child.pid;
    if (!pid) return;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        // no such group: already gone
      }
    };
    const groupAlive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive() && Date.now() < deadline) await sleep(50);
    if (groupAlive()) {
      signal('SIGKILL');
      const hardDeadline = Date.now() + 3_000;
      while (groupAlive() && Date.now() < hardDeadline) await sleep(50);
    }
    liveGroups.delete(pid);
  }
}

/** One scripted behaviour for llmock's next request(s) (see /work/shared/PROTOCOLS.md). */
export type LlmockBehavior =
  | { type: 'fail'; status: number; retry_after?: number }
  | { type: 'stream_fault'; kind: 'disconnect' | 'truncate' | 'malformed' | 'stall'; after_chunks: number }
  | { type: string; [key: string]: unknown };

/** One request as llmock's journal (`GET /_llmock/requests`) records it. */
export type LlmockRequest = {
  seq: number;
  method: string;
  path: string;
  status: number;
  model: string | null;
  stream: boolean;
  fault: string | null;
  retry_after: number | null;
  completed: boolean;
  chunks_sent: number;
  body: { model?: string; stream?: boolean; messages?: { role: string; content: string }[] } | null;
};

/**
 * llmock (PyPI `llmock` 0.2.2, in .tools/llmock): an OpenAI-compatible mock
 * whose echo style answers "Hello! You said: <last user message>" and whose
 * faults (429s, broken streams) are scripted per request over HTTP. It sends
 * no CORS headers, so the page reaches it only through confab-proxy.
 */
export class Llmock {
  private process: PeerProcess | null = null;
  /** `http://127.0.0.1:PORT`; the OpenAI API is under `v1`. */
  url = '';

  constructor(private options: { responseStyle?: string; chunkDelayMs?: number } = {}) {}

  get v1(): string {
    return `${this.url}/v1`;
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.process = PeerProcess.spawn(
      path.join(root, '.tools/llmock/bin/llmock'),
      [
        'serve',
        '--host', '127.0.0.1',
        '--port', String(port),
        '--response-style', this.options.responseStyle ?? 'echo',
        '--log-level', 'warning',
        ...(this.options.chunkDelayMs ? ['--stream-chunk-delay-ms', String(this.options.chunkDelayMs)] : []),
      ],
      // Plain output: its banner is drawn with colours otherwise.
      { ...process.env, NO_COLOR: '1', TERM: 'dumb' },
    );
    try {
      // The control API answers once the server is up (and is not journaled).
      await this.process.waitReady('llmock', `${this.url}/_llmock/requests`, 30_000);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Queues behaviours, consumed one per request, before normal answers resume. */
  async scenario(behaviors: LlmockBehavior[]): Promise<void> {
    await this.control('POST', '/_llmock/scenario', { behaviors });
  }

  /** Clears queued behaviours and the request journal. */
  async reset(): Promise<void> {
    await this.control('POST', '/_llmock/reset');
  }

  /** Every request received since the last reset, oldest first. */
  async requests(): Promise<LlmockRequest[]> {
    const journal = (await this.control('GET', '/_llmock/requests')) as { requests: LlmockRequest[] };
    return journal.requests;
  }

  async stop(): Promise<void> {
    const peer = this.process;
    this.process = null;
    await peer?.stop();
  }

  private async control(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`llmock ${method} ${route}: HTTP ${response.status} ${text}`);
    return JSON.parse(text);
  }
}

/**
 * LiteLLM's proxy (PyPI `litellm[proxy]` 1.106.12, in .tools/litellm): a real
 * OpenAI-compatible model proxy. Its models here answer from `mock_response`
 * without any upstream: two normal ones, one that quotes the master key
 * back, and two that raise LiteLLM's real rate-limit (429) and
 * internal-server (500) errors. It wants its master key
 * as a Bearer key, the way confab-proxy's upstream key is used in production.
 */
export class LiteLLM {
  static readonly models = {
    normal: 'mock-gpt',
    brief: 'mock-gpt-brief',
    rateLimited: 'mock-rate-limited',
    serverError: 'mock-server-error',
    /** Answers with the master key in a sentence: an upstream echoing its key. */
    echoKey: 'mock-echo-key',
  } as const;
  /** What `mock-gpt` answers: several sentences, so it streams in many chunks. */
  static readonly reply =
    'Hello from LiteLLM. This reply comes from a mock model, not a real one. It still streams like one, a few characters at a time.';
  static readonly briefReply = 'A shorter answer, from the second mock model.';
  /**
   * What `mock-echo-key` answers, with `key` its master key: the key that
   * confab-proxy sends upstream, so this is an upstream quoting it back.
   */
  static keyEchoReply(key: string): string {
    return `You sent the key ${key} with this request; keep it secret.`;
  }

  /** A fresh key per run; LiteLLM requires the `sk-` prefix. */
  readonly masterKey = `sk-confab-${randomBytes(12).toString('hex')}`;

  /**
   * `keyless`: no master key, as a LiteLLM gateway on a private network that
   * holds the provider keys itself; a page can then use it as its endpoint
   * directly (LiteLLM answers CORS for any origin).
   */
  constructor(private options: { keyless?: boolean; forward?: { model: string; apiBase: string } } = {}) {}
  private process: PeerProcess | null = null;
  private dir = '';
  /** `http://127.0.0.1:PORT`; the OpenAI API is under `v1`. */
  url = '';

  get v1(): string {
    return `${this.url}/v1`;
  }

  async start(): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-litellm-'));
    const mock = (name: string, response: string) => ({
      model_name: name,
      litellm_params: { model: `openai/${name}`, api_key: 'none', mock_response: response },
    });
    const config = {
      model_list: [
        mock(LiteLLM.models.normal, LiteLLM.reply),
        mock(LiteLLM.models.brief, LiteLLM.briefReply),
        mock(LiteLLM.models.echoKey, LiteLLM.keyEchoReply(this.masterKey)),
        // These strings make LiteLLM raise the named error, with its status.
        mock(LiteLLM.models.rateLimited, 'litellm.RateLimitError'),
        mock(LiteLLM.models.serverError, 'litellm.InternalServerError'),
        // A model LiteLLM really forwards to an OpenAI-compatible server
        // (llmock, which journals what it receives).
        ...(this.options.forward
          ? [
              {
                model_name: this.options.forward.model,
                litellm_params: { model: `openai/${this.options.forward.model}`, api_base: this.options.forward.apiBase, api_key: 'none' },
              },
            ]
          : []),
      ],
      // Without this LiteLLM retries a failed mock for about 5 s before
      // answering; the tests want the error itself, at once.
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0 },
      general_settings: this.options.keyless ? {} : { master_key: this.masterKey },
    };
    // YAML is a superset of JSON: no YAML writer needed.
    const configPath = path.join(this.dir, 'config.yaml');
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.process = PeerProcess.spawn(
      path.join(root, '.tools/litellm/bin/litellm'),
      ['--config', configPath, '--host', '127.0.0.1', '--port', String(port)],
      {
        ...process.env,
        // Use the bundled model cost map instead of fetching it from GitHub
        // (unreachable here; the retries would only slow the start).
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        NO_COLOR: '1',
        // LiteLLM refuses to start without a master key unless told this.
        ...(this.options.keyless ? { LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY: 'true' } : {}),
      },
    );
    try {
      // About 6-9 s on 2 cores; bounded well inside a test's 60 s.
      await this.process.waitReady('LiteLLM', `${this.url}/health/liveliness`, 45_000);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const peer = this.process;
    this.process = null;
    await peer?.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }
}

type Fixtures = {
  server: Proxy;
  chat: ChatPage;
  tokenDelayMs: number;
  otlpUrl: string | undefined;
  upstreamUrl: string | undefined;
  upstreamKey: string | undefined;
  defaultModel: string | undefined;
};

export const test = base.extend<Fixtures>({
  tokenDelayMs: [15, { option: true }],
  otlpUrl: [undefined, { option: true }],
  // Unset (the default): offline, as before.
  upstreamUrl: [undefined, { option: true }],
  upstreamKey: [undefined, { option: true }],
  defaultModel: [undefined, { option: true }],
  // Not named `proxy`: that is Playwright's own option for an HTTP proxy.
  server: async ({ tokenDelayMs, otlpUrl, upstreamUrl, upstreamKey, defaultModel }, use) => {
    const proxy = new Proxy({ tokenDelayMs, listen: '127.0.0.1:0', otlpUrl, upstreamUrl, upstreamKey, defaultModel });
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

/** Clicks `button`, saves the download it starts to `to`, and returns its text. */
export async function downloadText(page: Page, button: string, to: string): Promise<string> {
  const next = page.waitForEvent('download');
  await page.getByRole('button', { name: button }).click();
  await (await next).saveAs(to);
  return fs.readFileSync(to, 'utf8');
}


// ---------------------------------------------------------------------------
// Google ADK's agent server (PyPI `google-adk` 2.13.0, in .tools/adk), serving
// the test agents in tests/adk_agents/ (none needs an LLM; see its README).

/** The test agents' app names (`GET /list-apps`). */
export const adkApps = {
  history: 'history_agent',
  tool: 'tool_agent',
  code: 'code_agent',
  streaming: 'streaming_agent',
  multi: 'multi_agent',
  error: 'error_agent',
  thinking: 'thinking_agent',
  analysis: 'analysis_agent',
} as const;

/**
 * `adk api_server` on a free loopback port. Sessions are kept in memory by
 * default, so `restart()` loses them, as a real deployment without a
 * database does; with `sessionDb` they go to that SQLite file and survive a
 * restart. No CORS by default: pages reach it through confab-proxy's /adk,
 * same-origin.
 */
export class AdkServer {
  private process: PeerProcess | null = null;
  private port = 0;
  /** `http://127.0.0.1:PORT`, the base URL to give confab-proxy as --adk-url. */
  url = '';

  constructor(
    private options: {
      /** A SQLite file for the sessions (created if missing); none = in memory. */
      sessionDb?: string;
      /** Origins allowed to call it cross-origin (`--allow_origins`); none by default. */
      allowOrigins?: string[];
      /** The agents folder; tests/adk_agents by default. */
      agentsDir?: string;
    } = {},
  ) {}

  /** Starts the server: on a free port the first time, on the same port after a stop. */
  async start(): Promise<void> {
    if (this.process) throw new Error('the ADK server is already running');
    if (!this.port) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const sessions = this.options.sessionDb
      ? // Four slashes: `sqlite:///` and then an absolute path.
        ['--session_service_uri', `sqlite:///${path.resolve(this.options.sessionDb)}`]
      : // Without this, 2.13.0 writes sessions to <agent>/.adk/session.db
        // inside the agents folder (our source tree) and keeps them across
        // restarts; in-memory is what a restart test wants.
        ['--no_use_local_storage'];
    this.process = PeerProcess.spawn(
      path.join(root, '.tools/adk/bin/adk'),
      [
        'api_server',
        '--host', '127.0.0.1',
        '--port', String(this.port),
        '--log_level', 'warning',
        ...sessions,
        ...(this.options.allowOrigins ?? []).flatMap((origin) => ['--allow_origins', origin]),
        this.options.agentsDir ?? path.join(root, 'tests/adk_agents'),
      ],
      // No __pycache__ in the source tree; output unbuffered, so a failure's
      // log tail is complete.
      { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', NO_COLOR: '1' },
    );
    try {
      // About 2.5 s here; generous for a loaded machine.
      await this.process.waitReady('adk api_server', `${this.url}/list-apps`, 30_000);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the server (its whole process group) and waits until it is gone. */
  async stop(): Promise<void> {
    const peer = this.process;
    this.process = null;
    await peer?.stop();
  }

  /** Stop, then start on the same port: what a crash and a restart look like to a client. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The server's recent output, for assertion messages. */
  get log(): string {
    return this.process?.log ?? '';
  }
}

export type AgentFixtures = { adk: AdkServer; sessionDb: string | undefined };

/** Tests in agent mode: a real ADK api_server (`sessionDb`: its SQLite file) behind confab-proxy's /adk, the offline model beside it. */
export const agentTest = test.extend<AgentFixtures>({
  sessionDb: [undefined, { option: true }],
  adk: async ({ sessionDb }, use) => {
    const adk = new AdkServer({ sessionDb });
    await adk.start();
    try {
      await use(adk);
    } finally {
      await adk.stop();
    }
  },
  // confab-proxy with the offline model and /adk relayed to the test server.
  server: async ({ adk }, use) => {
    const proxy = new Proxy({ tokenDelayMs: 5, listen: '127.0.0.1:0', adkUrl: adk.url });
    await proxy.start();
    try {
      await use(proxy);
    } finally {
      await proxy.stop();
    }
  },
});

/** New conversations go to agent `app` (Settings; the apps come from GET /adk/list-apps). */
export async function useAgent(page: Page, app: string): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect
    .poll(() => dialog.locator('#agent-apps option').evaluateAll((els) => els.map((e) => e.getAttribute('value'))))
    .toContain(app);
  await dialog.getByLabel('Agent app for new conversations').fill(app);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
}

/** Chooses `model` in Settings, once the dialog lists it (GET /models through the proxy). */
export async function chooseModel(page: Page, model: string): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect(dialog).toBeVisible();
  // The datalist is filled asynchronously when the dialog opens.
  await expect
    .poll(() => dialog.locator('#model-options option').evaluateAll((els) => els.map((e) => e.getAttribute('value'))))
    .toContain(model);
  // Exact: other fields mention the model too ("Context window of this model").
  await dialog.getByLabel('Model', { exact: true }).fill(model);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
}

/** The sidebar's profile control: a button named "Profile: <active profile>". */
export function profileButton(page: Page): Locator {
  return page.getByRole('button', { name: /^Profile: / });
}

/** Opens the profile menu and chooses `item`: a profile's name, "New profile…" or "Rename profile…". */
export async function profileMenu(page: Page, item: string): Promise<void> {
  await profileButton(page).click();
  const menu = page.getByRole('menu', { name: 'Profiles' });
  await expect(menu).toBeVisible();
  await menu.getByRole(/…$/.test(item) ? 'menuitem' : 'menuitemradio', { name: item, exact: true }).click();
  await expect(menu).toBeHidden();
}
