// What the benchmarks share: the release build's paths, Chromium's flags,
// a small OpenAI-speaking upstream that streams a scripted reply, and
// confab-proxy in front of it, each on 127.0.0.1 on a free port.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const proxyBin = path.join(root, 'target/release/confab-proxy');
export const genBin = path.join(root, 'target/release/examples/gen_history');
export const dist = path.join(root, 'dist');
export const benchDir = path.join(root, 'target/bench');

export const env = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
};

export { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.mjs';

export const log = (...args) => console.error('bench:', ...args);

// --- the long reply's upstream -------------------------------------------

// confab-echo cannot produce a 1,000-token reply: it quotes at most 200
// characters of the first and latest messages (proxy/src/echo.rs), about
// 270 word tokens in all. So confab-proxy runs with --upstream-url pointing
// at this small OpenAI-compatible server, which streams exactly
// the given tokens, one SSE event each, `perTick` of them every `delayMs`. The
// page still talks only to confab-proxy, which forwards the stream as it
// comes. The same server also serves a blank page at /scratch: a second
// origin whose localStorage quota the baseline's writes can use.

/** The reply's tokens: words with their trailing space, as the echo model splits. */
export function replyTokens(count) {
  const words = ['stream', 'token', 'reply', 'storage', 'draft', 'quota', 'browser', 'session'];
  return Array.from({ length: count }, (_, i) => `${words[i % words.length]}${i} `);
}

export function startUpstream(tokens, { delayMs, perTick = 1 }) {
  const sse = (res, object) => res.write(`data: ${JSON.stringify(object)}\n\n`);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/scratch') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><title>scratch</title>');
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'bench-long', object: 'model' }] }));
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta, finish = null) => ({
          id: 'chatcmpl-bench',
          object: 'chat.completion.chunk',
          created: Math.floor(Date.now() / 1000),
          model: 'bench-long',
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
        sse(res, chunk({ role: 'assistant', content: '' }));
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i < tokens.length) {
            for (const end = Math.min(i + perTick, tokens.length); i < end; ) sse(res, chunk({ content: tokens[i++] }));
            setTimeout(next, delayMs);
            return;
          }
          sse(res, chunk({}, 'stop'));
          sse(res, {
            id: 'chatcmpl-bench',
            object: 'chat.completion.chunk',
            model: 'bench-long',
            choices: [],
            usage: { prompt_tokens: 10, completion_tokens: tokens.length, total_tokens: tokens.length + 10 },
          });
          res.end('data: [DONE]\n\n');
        };
        setTimeout(next, delayMs);
      });
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function stopServer(server) {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// --- confab-proxy --------------------------------------------------------

/** confab-proxy serving dist/: in front of `upstreamUrl`, or with its
 * offline model (paced `echoTokenDelayMs` apart) when there is none. */
export async function startProxy(upstreamUrl, { echoTokenDelayMs = 30 } = {}) {
  for (const [file, hint] of [
    [proxyBin, 'cargo build --release -p confab-proxy'],
    [path.join(dist, 'index.html'), 'trunk build --release --offline'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run ${hint}`);
  }
  const child = spawn(
    proxyBin,
    [
      '--listen', '127.0.0.1:0',
      '--dist', dist,
      ...(upstreamUrl ? ['--upstream-url', upstreamUrl] : ['--echo-token-delay-ms', String(echoTokenDelayMs)]),
    ],
    {
      env: {
        ...process.env,
        CONFAB_UPSTREAM_URL: '',
        CONFAB_UPSTREAM_API_KEY: '',
        // A key of its own, so no identity key file is written under $HOME.
        CONFAB_IDENTITY_KEY: randomBytes(32).toString('hex'),
        RUST_LOG: 'confab_proxy=warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`confab-proxy did not start in 10 s: ${stderr}`)), 10_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`confab-proxy exited with ${code}: ${stderr}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  }).catch(async (error) => {
    await stopChild(child);
    throw error;
  });
  return { child, url: url.replace(/\/$/, '') };
}

export async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Puts `entries` into the origin's store, as the app keeps it (format 6:
 * session bodies and conversation records in IndexedDB, the rest in
 * localStorage), from a page that is not the app (so the app never runs
 * before they are all there). Whatever the origin held is cleared first. */
export async function seed(page, origin, entries) {
  await page.goto(`${origin}/healthz`);
  await page.evaluate(async (items) => {
    const bulk = (k) => k.startsWith('confab:session:') || k.startsWith('confab:conversation:');
    localStorage.clear();
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('confab-store', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('kv');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('kv', 'readwrite');
    const store = tx.objectStore('kv');
    store.clear();
    for (const [key, value] of Object.entries(items)) {
      if (bulk(key)) store.put(value, key);
      else localStorage.setItem(key, value);
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    db.close();
  }, entries);
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const fmt = (n) => Math.round(n).toLocaleString('en-US');
export const ms = (n) => `${n.toFixed(0)} ms`;

export function table(rows) {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => (k === '' ? '' : `  ${k.padEnd(width)}  ${v}`)).join('\n');
}
