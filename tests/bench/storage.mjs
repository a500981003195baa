// Storage benchmark: prints figures, asserts nothing.
//
// Run through scripts/bench-storage.sh (which builds the history generator
// first). It measures, in headless Chromium against the release build in
// dist/ served by target/release/confab-proxy:
//
//  1. startup time with a large history in localStorage vs an empty one;
//  2. localStorage writes (calls and characters) while one long reply
//     streams, against a baseline client that rewrites its whole store as
//     one value on every token (the NextChat / chatbot-ui way).
//
// Every server it starts listens on 127.0.0.1 on a free port and is stopped
// at the end, also when something fails.

import { chromium } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const proxyBin = path.join(root, 'target/release/confab-proxy');
const genBin = path.join(root, 'target/release/examples/gen_history');
const dist = path.join(root, 'dist');
const benchDir = path.join(root, 'target/bench');

const env = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
};
const CONVERSATIONS = env('BENCH_CONVERSATIONS', 200);
const MESSAGES = env('BENCH_MESSAGES', 100);
const RUNS = env('BENCH_RUNS', 7);
const REPLY_TOKENS = env('BENCH_REPLY_TOKENS', 1000);
const TOKEN_DELAY_MS = env('BENCH_TOKEN_DELAY_MS', 5);
/** Room left free for the benchmarked reply (user message, drafts, event). */
const HEADROOM_UNITS = 64 * 1024;
/** The whole run is cut off after this long (the servers still stop). */
const DEADLINE_MS = env('BENCH_DEADLINE_MS', 175_000);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const log = (...args) => console.error('bench:', ...args);

// --- the long reply's upstream -------------------------------------------

// confab-echo cannot produce a 1,000-token reply: it quotes at most 200
// characters of the first and latest messages (proxy/src/echo.rs), about
// 270 word tokens in all. So confab-proxy runs with --upstream-url pointing
// at this small OpenAI-compatible server, which streams exactly
// REPLY_TOKENS word tokens, one SSE event each, TOKEN_DELAY_MS apart. The
// page still talks only to confab-proxy, which forwards the stream as it
// comes. The same server also serves a blank page at /scratch: a second
// origin whose localStorage quota the baseline's writes can use.

/** The reply's tokens: words with their trailing space, as the echo model splits. */
function replyTokens(count) {
  const words = ['stream', 'token', 'reply', 'storage', 'draft', 'quota', 'browser', 'session'];
  return Array.from({ length: count }, (_, i) => `${words[i % words.length]}${i} `);
}

function startUpstream(tokens) {
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
            sse(res, chunk({ content: tokens[i++] }));
            setTimeout(next, TOKEN_DELAY_MS);
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
        setTimeout(next, TOKEN_DELAY_MS);
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

async function stopServer(server) {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// --- confab-proxy --------------------------------------------------------

async function startProxy(upstreamUrl) {
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
      '--upstream-url', upstreamUrl,
      // Unused while an upstream answers; kept so the pace is explicit.
      '--echo-token-delay-ms', String(TOKEN_DELAY_MS),
    ],
    {
      env: { ...process.env, CONFAB_UPSTREAM_API_KEY: '', RUST_LOG: 'confab_proxy=warn' },
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

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

// --- the history ---------------------------------------------------------

/** The largest CONVERSATIONS x MESSAGES history that fits in `maxUnits`,
 * generated by core/examples/gen_history.rs (cached for a few hours: its
 * timestamps must stay within the app's one-week idle limit). */
function history(maxUnits) {
  if (!fs.existsSync(genBin)) {
    throw new Error(`${genBin} is missing: run cargo build --release -p confab-core --example gen_history`);
  }
  fs.mkdirSync(benchDir, { recursive: true });
  const base = path.join(benchDir, `history-${CONVERSATIONS}x${MESSAGES}-max${maxUnits}`);
  const [file, statsFile] = [`${base}.json`, `${base}.stats.json`];
  const fresh = (f) =>
    fs.existsSync(f) &&
    fs.statSync(f).mtimeMs > fs.statSync(genBin).mtimeMs &&
    Date.now() - fs.statSync(f).mtimeMs < 6 * 3600_000;
  let reused = true;
  if (!fresh(file) || !fresh(statsFile)) {
    reused = false;
    log(`generating ${CONVERSATIONS} x ${MESSAGES} with the core's SessionManager ...`);
    const out = fs.openSync(`${file}.tmp`, 'w');
    const run = spawnSync(genBin, [String(CONVERSATIONS), String(MESSAGES), '--max-units', String(maxUnits)], {
      stdio: ['ignore', out, 'pipe'],
      timeout: 90_000,
    });
    fs.closeSync(out);
    const stderr = String(run.stderr ?? '');
    if (run.status !== 0) throw new Error(`gen_history failed (${run.status ?? run.signal}): ${stderr}`);
    const stats = stderr.match(/^stats: (.*)$/m);
    if (!stats) throw new Error(`gen_history printed no stats: ${stderr}`);
    fs.writeFileSync(statsFile, stats[1]);
    fs.renameSync(`${file}.tmp`, file);
  }
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  const entries = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { entries, stats, reused };
}

// --- in-page probes --------------------------------------------------------

/** Notes when the message box is interactive (visible, enabled) and when the
 * sidebar lists every conversation, as performance.now(): milliseconds since
 * this document's navigation started. A MutationObserver checks after every
 * DOM change, so the time is that of the change that made it true. */
function readyProbe(expectedSessions) {
  if (location.pathname !== '/') return;
  const marks = (window.__bench = { ready: null, sidebar: null, sessions: 0, reads: null });
  const check = () => {
    if (marks.ready === null) {
      const box = document.querySelector('textarea[aria-label="Message"]');
      if (box && !box.disabled && box.getClientRects().length > 0 && getComputedStyle(box).visibility !== 'hidden') {
        marks.ready = performance.now();
        // The reads so far (see readCounter), as they were at this moment.
        const reads = window.__reads;
        if (reads) marks.reads = { ...reads, first: reads.first && { ...reads.first } };
      }
    }
    if (marks.sidebar === null) {
      marks.sessions = document.querySelectorAll('nav[aria-label="Conversations"] .session').length;
      if (marks.sessions >= expectedSessions) marks.sidebar = performance.now();
    }
    if (marks.ready !== null && marks.sidebar !== null) observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
}

/** Counts every localStorage setItem/removeItem while `__writes.on` is set:
 * calls, and characters of key + value (JS string length, i.e. UTF-16 code
 * units; the quota counts the same). Each call is kept for the breakdown.
 * With `fromStart`, counting is on from the moment the app page opens. */
function writeCounter(fromStart) {
  const log = (window.__writes = { on: fromStart && location.pathname === '/', calls: [] });
  const { setItem, removeItem } = Storage.prototype;
  Storage.prototype.setItem = function (key, value) {
    if (log.on && this === window.localStorage) {
      const k = String(key);
      log.calls.push({ op: 'set', key: k, chars: k.length + String(value).length, t: performance.now() });
    }
    return setItem.call(this, key, value);
  };
  Storage.prototype.removeItem = function (key) {
    if (log.on && this === window.localStorage) {
      const k = String(key);
      log.calls.push({ op: 'remove', key: k, chars: k.length, t: performance.now() });
    }
    return removeItem.call(this, key);
  };
}

/** Counts and times the app's localStorage reads (getItem, key, length)
 * from the moment the app page opens: where a large store's startup time
 * goes. The first call is timed on its own: Chromium loads an origin's
 * whole localStorage into the page on first use. */
function readCounter() {
  if (location.pathname !== '/') return;
  const reads = (window.__reads = { getItem: 0, key: 0, length: 0, chars: 0, ms: 0, first: null });
  const proto = Storage.prototype;
  const timed = (op, call) => {
    const t0 = performance.now();
    const result = call();
    const spent = performance.now() - t0;
    reads.ms += spent;
    reads[op] += 1;
    if (reads.first === null) reads.first = { op, ms: spent };
    return result;
  };
  const { getItem, key } = proto;
  proto.getItem = function (name) {
    const value = timed('getItem', () => getItem.call(this, name));
    reads.chars += String(name).length + (value?.length ?? 0);
    return value;
  };
  proto.key = function (index) {
    return timed('key', () => key.call(this, index));
  };
  const length = Object.getOwnPropertyDescriptor(proto, 'length');
  Object.defineProperty(proto, 'length', {
    ...length,
    get() {
      return timed('length', () => length.get.call(this));
    },
  });
}

/** Puts `entries` into the origin's localStorage from a page that is not
 * the app (so the app never runs before they are all there). */
async function seed(page, origin, entries) {
  await page.goto(`${origin}/healthz`);
  await page.evaluate((items) => {
    localStorage.clear();
    for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
  }, entries);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// --- the measurements ------------------------------------------------------

/** The most characters one origin's localStorage takes (one key, one value). */
async function probeQuota(browser, scratchUrl) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(scratchUrl);
    return await page.evaluate(() => {
      const fits = (n) => {
        try {
          localStorage.setItem('q', 'x'.repeat(n));
          return true;
        } catch {
          return false;
        } finally {
          localStorage.removeItem('q');
        }
      };
      let [lo, hi] = [0, 64 * 1024 * 1024];
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
      return lo + 1; // plus the key's one character
    });
  } finally {
    await context.close();
  }
}

/** A browser context for page loads, with the probes installed. */
async function loadContext(browser, expectedSessions) {
  const context = await browser.newContext();
  await context.addInitScript(readyProbe, expectedSessions);
  await context.addInitScript(writeCounter, true);
  await context.addInitScript(readCounter);
  return context;
}

/** One page load: ms from navigation start to the interactive message box.
 * The store is set first (emptied, or filled with `entries`) from a page of
 * the same origin that is then closed, in both cases, so the loads differ
 * only in it. The app opens in a new page (a new renderer process): a page
 * keeps its origin's localStorage loaded in its process, and loading it is
 * part of a real startup. */
async function startupRun(context, origin, entries) {
  const seeder = await context.newPage();
  try {
    await seed(seeder, origin, entries ?? {});
  } finally {
    await seeder.close();
  }
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__bench?.ready != null, null, { timeout: 30_000 });
    // The sidebar is filled in the same task as the box, but wait for it.
    await page
      .waitForFunction(() => window.__bench?.sidebar != null, null, { timeout: 10_000 })
      .catch(() => {});
    return await page.evaluate(() => {
      const writes = window.__writes.calls.filter((w) => w.t <= window.__bench.ready);
      return {
        reads: window.__bench.reads,
        ready: window.__bench.ready,
        sessions: document.querySelectorAll('nav[aria-label="Conversations"] .session').length,
        quarantined: Object.keys(localStorage).filter((k) => k.startsWith('confab:quarantine:')).length,
        writes: writes.length,
        writeChars: writes.reduce((sum, w) => sum + w.chars, 0),
      };
    });
  } finally {
    await page.close();
  }
}

/** Startup of both cases, in two conditions: `cold`, a fresh browser context
 * per load (nothing cached: the app's files are fetched and its wasm
 * compiled every time, as on a first visit), and `warm`, one context per
 * case kept across loads (HTTP cache and compiled code kept, as for a
 * returning user, who is the one with a large history). Runs alternate
 * between the cases, after one unmeasured load of each, so drift on a
 * shared machine hits both alike. */
async function startup(browser, origin, entries, conversations) {
  const cases = { empty: { cold: [], warm: [] }, large: { cold: [], warm: [] } };
  const setups = { empty: [null, 0], large: [entries, conversations] };
  const warm = {};
  try {
    for (const name of ['empty', 'large']) warm[name] = await loadContext(browser, setups[name][1]);
    for (let i = -1; i < RUNS; i++) {
      for (const name of ['empty', 'large']) {
        const [data, expected] = setups[name];
        const context = await loadContext(browser, expected);
        let cold;
        try {
          cold = await startupRun(context, origin, data);
        } finally {
          await context.close();
        }
        const hot = await startupRun(warm[name], origin, data);
        log(
          `startup ${name} ${i < 0 ? 'warm-up' : `run ${i + 1}`}: box at ${cold.ready.toFixed(0)} ms cold, ` +
            `${hot.ready.toFixed(0)} ms warm; ${cold.sessions} conversations listed`,
        );
        if (i >= 0) {
          cases[name].cold.push(cold);
          cases[name].warm.push(hot);
        }
      }
    }
  } finally {
    for (const context of Object.values(warm)) await context.close();
  }
  return cases;
}

/** Sends one message and counts localStorage writes until its reply is saved. */
async function streamedReply(browser, origin, entries, conversations, tokens) {
  const context = await browser.newContext();
  try {
    await context.addInitScript(writeCounter, false);
    await context.addInitScript(readyProbe, conversations);
    const page = await context.newPage();
    await seed(page, origin, entries);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__bench?.ready != null, null, { timeout: 30_000 });
    const sessions = await page.getByRole('navigation', { name: 'Conversations' }).locator('.session').count();

    // The store as it is before the message: what the baseline rewrites.
    const store = await page.evaluate(() => {
      const all = {};
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith('confab:')) all[key] = localStorage.getItem(key);
      }
      return all;
    });
    const userText = 'Please write a long answer about browser storage.';
    const replies = page.locator('article[data-role="assistant"]');
    const before = await replies.count();
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill(userText);
    await page.evaluate(() => {
      window.__writes.calls = [];
      window.__writes.on = true;
    });
    const started = Date.now();
    await box.press('Enter');
    const reply = replies.nth(before);
    await reply.waitFor({ timeout: 10_000 });
    await page.waitForFunction(
      (n) => document.querySelectorAll('article[data-role="assistant"]')[n]?.dataset.status === 'complete',
      before,
      { timeout: 60_000, polling: 50 },
    );
    const streamMs = Date.now() - started;
    // The reply is saved in the same task that marks it complete; anything
    // later (a draft timer that was already due) is counted too.
    await page.waitForTimeout(500);
    const writes = await page.evaluate(() => {
      window.__writes.on = false;
      return window.__writes.calls;
    });
    const shown = await reply.locator('.text').textContent();
    return { writes, store, userText, shown, streamMs, sessions };
  } finally {
    await context.close();
  }
}

/** What a client that keeps its whole state as one value writes for the same
 * reply: one setItem of every confab: key (as one JSON object) plus the
 * message and the partial reply, per token received. The writes really
 * happen, into a scratch key on another origin (the app's origin has no room
 * for a second copy of a near-full store), and are measured there. */
async function baseline(browser, scratchUrl, store, userText, tokens) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(scratchUrl);
    return await page.evaluate(
      ({ store, userText, tokens }) => {
        const key = 'bench:scratch-store';
        // The stored values as objects, as such a client would hold them
        // (nesting them as JSON strings would inflate them with escapes).
        // Packed bodies (schema 3) stay the strings they are: plain, this
        // history would not fit in the quota at all, so the baseline is
        // given the same compact data and only differs in rewriting it all.
        const state = Object.fromEntries(
          Object.entries(store).map(([k, v]) => [k, v.startsWith('~z1') ? v : JSON.parse(v)]),
        );
        const whole = (partial) => ({
          state,
          messages: [
            { role: 'user', content: userText },
            { role: 'assistant', content: partial },
          ],
        });
        // What re-serializing all of it costs, once (not part of the figures).
        let t0 = performance.now();
        JSON.stringify(whole(''));
        const stringifyMs = performance.now() - t0;
        // Every write below is exactly JSON.stringify(whole(partial)): the
        // unchanging part is serialized once and the partial reply spliced
        // in, so the run takes the time of the writes alone.
        const [head, tail] = JSON.stringify(whole('\u0000')).split('"\\u0000"');
        let calls = 0;
        let chars = 0;
        let partial = '';
        t0 = performance.now();
        for (const token of tokens) {
          partial += token;
          const value = head + JSON.stringify(partial) + tail;
          localStorage.setItem(key, value);
          calls += 1;
          chars += key.length + value.length;
        }
        const ms = performance.now() - t0;
        if (localStorage.getItem(key) !== JSON.stringify(whole(partial))) throw new Error('baseline value is not the whole store');
        localStorage.removeItem(key);
        return { calls, chars, ms, stringifyMs };
      },
      { store, userText, tokens },
    );
  } finally {
    await context.close();
  }
}

// --- report ----------------------------------------------------------------

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => `${n.toFixed(0)} ms`;

function table(rows) {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => (k === '' ? '' : `  ${k.padEnd(width)}  ${v}`)).join('\n');
}

/** Set once the run is being stopped early; errors after it are its echo. */
let stopping = false;

async function main() {
  const tokens = replyTokens(REPLY_TOKENS);
  let upstream;
  let proxy;
  let browser;
  const cleanup = async () => {
    const b = browser;
    browser = null;
    await b?.close().catch(() => {});
    const p = proxy;
    proxy = null;
    await stopChild(p?.child);
    const u = upstream;
    upstream = null;
    await stopServer(u);
  };
  // Stopping on a deadline or a signal: everything started is stopped first.
  const abort = (why, code) => {
    stopping = true;
    log(why);
    cleanup().finally(() => process.exit(code));
  };
  const deadline = setTimeout(() => abort(`cut off after ${DEADLINE_MS / 1000} s`, 2), DEADLINE_MS);
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));

  try {
    upstream = await startUpstream(tokens);
    const upstreamOrigin = `http://127.0.0.1:${upstream.address().port}`;
    proxy = await startProxy(`${upstreamOrigin}/v1`);
    const origin = proxy.url;
    const scratchUrl = `${upstreamOrigin}/scratch`;
    log(`confab-proxy at ${origin}, long-reply upstream at ${upstreamOrigin}`);
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });

    const quota = await probeQuota(browser, scratchUrl);
    const { entries, stats, reused } = history(quota - HEADROOM_UNITS);
    const fitsFully = stats.messages === stats.requestedMessages;
    log(
      `history ${stats.conversations} x ${stats.messages}: ${fmt(stats.units)} units in ${stats.keys} keys` +
        (reused ? ' (reused from target/bench)' : ''),
    );
    if (!fitsFully) {
      log(
        `${stats.conversations} x ${stats.requestedMessages} needs ${fmt(stats.requestedUnits)} units, ` +
          `more than Chromium's quota of ${fmt(quota)}: using ${stats.conversations} x ${stats.messages}, the largest that fits`,
      );
    }

    const runs = await startup(browser, origin, entries, stats.conversations);
    log(`one ${REPLY_TOKENS}-token reply with the history in store ...`);
    const stream = await streamedReply(browser, origin, entries, stats.conversations, tokens);
    const expectedText = tokens.join('').trim();
    log(`baseline: ${REPLY_TOKENS} whole-store writes (takes a while) ...`);
    const base = await baseline(browser, scratchUrl, stream.store, stream.userText, tokens);

    // --- figures ---
    const ready = (name, mode) => runs[name][mode].map((r) => r.ready);
    const loads = (name) => [...runs[name].cold, ...runs[name].warm];
    const listed = [...new Set(loads('large').map((r) => r.sessions))];
    const startupRows = ['cold', 'warm'].flatMap((mode) => {
      const [empty, large] = [median(ready('empty', mode)), median(ready('large', mode))];
      const list = (name) => `[${ready(name, mode).map((t) => t.toFixed(0)).join(', ')}]`;
      return [
        [`startup ${mode}, empty storage`, `${ms(empty)}  ${list('empty')}`],
        [`startup ${mode}, large history`, `${ms(large)}  ${list('large')}`],
        [`startup ${mode}, ratio large / empty`, `${(large / empty).toFixed(2)}x (+${ms(large - empty)})  (goal: within 1.5x)`],
      ];
    });
    const startupWrites = (name) => Math.max(...loads(name).map((r) => r.writes));
    // The reads of the median cold load of each case.
    const readsOf = (name) => {
      const sorted = [...runs[name].cold].sort((a, b) => a.ready - b.ready);
      const { reads } = sorted[sorted.length >> 1];
      return (
        `${reads.getItem} getItem (${fmt(reads.chars)} chars), ${reads.key} key(), ${reads.length} length: ` +
        `${reads.ms.toFixed(1)} ms in them, ${reads.first.ms.toFixed(1)} ms in the first (${reads.first.op})`
      );
    };
    const confab = stream.writes;
    const sets = confab.filter((w) => w.op === 'set');
    const removes = confab.filter((w) => w.op === 'remove');
    const chars = confab.reduce((sum, w) => sum + w.chars, 0);
    const isDraft = (w) => w.key.startsWith('confab:draft:');
    const drafts = confab.filter((w) => isDraft(w) && w.op === 'set');
    const draftChars = drafts.reduce((sum, w) => sum + w.chars, 0);
    const draftRemoves = confab.filter((w) => isDraft(w) && w.op === 'remove');
    const other = confab.filter((w) => !isDraft(w));
    const otherChars = other.reduce((sum, w) => sum + w.chars, 0);
    // Per kind of key (confab:<kind>:...): calls and characters.
    const byKind = {};
    for (const w of other) {
      const kind = w.key.split(':')[1] ?? w.key;
      byKind[kind] ??= { calls: 0, chars: 0 };
      byKind[kind].calls += 1;
      byKind[kind].chars += w.chars;
    }
    const kinds = Object.entries(byKind)
      .sort((a, b) => b[1].chars - a[1].chars)
      .map(([k, v]) => `${k} ${v.calls}x ${fmt(v.chars)}`)
      .join(', ');
    const storeChars = Object.entries(stream.store).reduce((s, [k, v]) => s + k.length + v.length, 0);
    const replyOk = (stream.shown ?? '').trim() === expectedText;

    const history_ = `${stats.conversations} conversations x ${stats.messages} messages (${stats.words} words each), ${fmt(stats.units)} chars in ${stats.keys} keys`;
    console.log('');
    console.log('Confab storage benchmark (headless Chromium, release build, confab-proxy on 127.0.0.1)');
    console.log('');
    console.log(
      table([
        ['localStorage quota (probed)', `${fmt(quota)} chars (UTF-16 code units of key + value)`],
        [
          `history ${stats.conversations} x ${stats.requestedMessages}`,
          fitsFully
            ? `${fmt(stats.requestedUnits)} chars: fits`
            : `${fmt(stats.requestedUnits)} chars: DOES NOT FIT (${(stats.requestedUnits / quota).toFixed(1)}x the quota; ~${fmt(stats.requestedUnits / (stats.conversations * stats.requestedMessages))} chars a message)`,
        ],
        ['history used', history_],
        ['', ''],
        ...startupRows,
        ['conversations in the sidebar', `${listed.join(', ')} in every large load (expected ${stats.conversations})`],
        ['reads until the box was ready, empty', readsOf('empty')],
        ['reads until the box was ready, large', readsOf('large')],
        ['writes before the box was ready', `at most ${startupWrites('empty')} (empty), ${startupWrites('large')} (large) per load`],
        ['entries moved aside as unreadable', `${Math.max(0, ...loads('large').map((r) => r.quarantined))}`],
        ['', ''],
        ['streamed reply', `${REPLY_TOKENS} tokens, ${TOKEN_DELAY_MS} ms apart, ${fmt(expectedText.length)} chars, send to saved in ${ms(stream.streamMs)}${replyOk ? '' : ' (REPLY TEXT DIFFERS FROM WHAT WAS SENT)'}`],
        ['store during the reply', `the history above (${fmt(storeChars)} chars, ${stream.sessions} conversations listed)`],
        ['Confab: localStorage write calls', `${confab.length} (${sets.length} setItem, ${removes.length} removeItem)`],
        ['  draft saves while streaming', `${drafts.length} setItem, ${fmt(draftChars)} chars (+ ${draftRemoves.length} removeItem once saved)`],
        ['  saving the message and the reply', `${other.length} setItem, ${fmt(otherChars)} chars: ${kinds}`],
        ['Confab: chars written', fmt(chars)],
        ['baseline (whole store per token): calls', `${fmt(base.calls)} setItem`],
        ['baseline: chars written', `${fmt(base.chars)}  (setItem took ${(base.ms / base.calls).toFixed(1)} ms a token, + ${ms(base.stringifyMs)} to serialize)`],
        ['baseline / Confab chars', `${fmt(base.chars / chars)}x fewer written by Confab  (goal: at least 20x)`],
      ]),
    );
    console.log('');
    console.log(`  Startup: median of ${RUNS} loads (all listed) of performance.now() in the page, i.e. ms since`);
    console.log('  navigation start, when the textarea named "Message" is first visible and enabled (seen by a');
    console.log('  MutationObserver). Cold: a fresh browser context per load (nothing cached). Warm: one context');
    console.log('  per case across loads (app files and compiled wasm cached, like a returning user).');
    console.log('  Writes: Storage.prototype.setItem/removeItem wrapped in the page; chars = key length + value');
    console.log('  length (JS string length), from pressing Enter until 500 ms after the reply is marked complete.');
    console.log('  Reads: getItem/key/length wrapped the same way; the first call includes Chromium loading the');
    console.log("  origin's whole localStorage into the page's renderer (the store is seeded from another page).");
    console.log('  The reply comes from a local OpenAI-style server behind confab-proxy (--upstream-url):');
    console.log('  confab-echo quotes at most 200 characters per message, about 270 tokens a reply.');
    clearTimeout(deadline);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    if (stopping) return; // abort() exits once everything is stopped
    console.error(`bench: could not run: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
