// A test-only OpenAI-compatible upstream for confab-proxy, for what llmock
// cannot script: a sequence of behaviours, one per request (a 429, then a
// reply), and the exact request bodies the client sent. It speaks the real
// wire format: `data: {chunk}` SSE frames, a usage chunk, `data: [DONE]`,
// OpenAI-shaped error bodies, and it can stall or drop the connection.
import http from 'node:http';
import { test as base, Proxy } from './fixtures';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  /**
   * Streams `text` word by word (or in pieces of `chunkChars` characters,
   * so markup is cut anywhere), then a usage chunk and `[DONE]`.
   */
  | { kind: 'reply'; text: string; delayMs?: number; chunkChars?: number; firstDelayMs?: number }
  /** An HTTP error with an OpenAI-shaped body and optional Retry-After. */
  | { kind: 'error'; status: number; message: string; retryAfter?: string }
  /** Streams the first `words` words of `text`, then sends nothing more. */
  | { kind: 'stall'; text: string; words: number }
  /** Streams the first `words` words of `text`, then drops the connection. */
  | { kind: 'drop'; text: string; words: number }
  /**
   * Sends each line as one SSE frame, exactly as written (`data: {...}` as a
   * server sends it, or a `: comment`), `delayMs` apart. With `holdAfter`,
   * stays open and silent after that many frames (a model still thinking).
   */
  | { kind: 'frames'; frames: string[]; delayMs?: number; holdAfter?: number }
  /** A whole JSON reply, exactly as written (a server that does not stream). */
  | { kind: 'json'; body: string };

export type Received = { model?: string; temperature?: number; messages: { role: string; content: string }[] };

export class ScriptedUpstream {
  private server: http.Server | null = null;
  private sockets = new Set<Socket>();
  /** What each request asked for, in order. */
  readonly received: Received[] = [];
  /** Behaviours still to play; when empty, `fallback` answers. */
  script: Behaviour[] = [];
  /** Chooses the behaviour by the request, before `script` and `fallback` (for requests that arrive in no set order). */
  respond: ((request: Received) => Behaviour | undefined) | null = null;
  fallback: Behaviour = { kind: 'reply', text: 'Scripted reply.' };
  url = '';

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted-model', object: 'model' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', code: null } }));
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const request = JSON.parse(body) as Received;
      this.received.push(request);
      void this.play(this.respond?.(request) ?? this.script.shift() ?? this.fallback, res);
    });
  }

  private async play(behaviour: Behaviour, res: http.ServerResponse): Promise<void> {
    if (behaviour.kind === 'error') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.retryAfter) headers['retry-after'] = behaviour.retryAfter;
      res.writeHead(behaviour.status, headers);
      res.end(JSON.stringify({ error: { message: behaviour.message, type: 'error', code: String(behaviour.status) } }));
      return;
    }
    if (behaviour.kind === 'json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(behaviour.body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (behaviour.kind === 'frames') {
      const frames = behaviour.frames.slice(0, behaviour.holdAfter ?? behaviour.frames.length);
      for (const line of frames) {
        res.write(`${line}\n\n`);
        await new Promise((r) => setTimeout(r, behaviour.delayMs ?? 5));
      }
      if (behaviour.holdAfter === undefined) res.end();
      return;
    }
    const words =
      behaviour.kind === 'reply' && behaviour.chunkChars
        ? pieces(behaviour.text, behaviour.chunkChars)
        : behaviour.text.split(/(?<= )/);
    const count = behaviour.kind === 'reply' ? words.length : behaviour.words;
    const frame = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: object, finish: string | null = null) =>
      frame({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'scripted-model', choices: [{ index: 0, delta, finish_reason: finish }] });
    chunk({ role: 'assistant' });
    // A model that thinks before its first token.
    if (behaviour.kind === 'reply' && behaviour.firstDelayMs) await new Promise((r) => setTimeout(r, behaviour.firstDelayMs));
    for (const word of words.slice(0, count)) {
      chunk({ content: word });
      await new Promise((r) => setTimeout(r, behaviour.kind === 'reply' ? (behaviour.delayMs ?? 5) : 5));
    }
    if (behaviour.kind === 'stall') return; // the connection stays open, silent
    if (behaviour.kind === 'drop') {
      res.socket?.destroy();
      return;
    }
    chunk({}, 'stop');
    frame({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'scripted-model', choices: [], usage: { prompt_tokens: 11, completion_tokens: count, total_tokens: 11 + count } });
    res.end('data: [DONE]\n\n');
  }
}

/** `text` cut every `size` characters (code points, never inside one). */
function pieces(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** Tests whose model is a ScriptedUpstream behind a real confab-proxy. */
export const scriptedTest = base.extend<{ upstream: ScriptedUpstream }>({
  upstream: async ({}, use) => {
    const upstream = new ScriptedUpstream();
    await upstream.start();
    try {
      await use(upstream);
    } finally {
      await upstream.stop();
    }
  },
  // confab-proxy in front of the scripted upstream instead of the offline model.
  server: async ({ upstream }, use) => {
    const proxy = new Proxy({ tokenDelayMs: 5, listen: '127.0.0.1:0', upstreamUrl: upstream.url, upstreamKey: 'sk-test-never-in-the-page' });
    await proxy.start();
    try {
      await use(proxy);
    } finally {
      await proxy.stop();
    }
  },
});
