// Load test for confab-proxy's streaming path. Prints figures; asserts
// nothing. Starts a paced SSE upstream (sse-upstream.mjs) and confab-proxy
// in front of it (--upstream-url), then sends the same load once straight to
// the upstream and once through the proxy, and prints throughput, time to
// first chunk, total time, inter-chunk gaps, the latency the proxy adds and
// its peak memory. Everything listens on 127.0.0.1; every process started
// here is stopped at the end, also on failure or Ctrl-C.
//
// Knobs (environment): LOAD_REQUESTS (200), LOAD_CONCURRENCY (50),
// LOAD_CHUNKS per reply (20), LOAD_CHUNK_DELAY_MS (10), LOAD_ROUNDS (3: each
// round sends the load to both targets), LOAD_TIME_LIMIT_S per run (60),
// LOAD_REQUEST_TIMEOUT_S (30), CONFAB_PROXY (binary).
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const knob = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const REQUESTS = knob('LOAD_REQUESTS', 200);
const CONCURRENCY = knob('LOAD_CONCURRENCY', 50);
const CHUNKS = knob('LOAD_CHUNKS', 20);
const CHUNK_DELAY_MS = knob('LOAD_CHUNK_DELAY_MS', 10);
const TIME_LIMIT_MS = knob('LOAD_TIME_LIMIT_S', 60) * 1000;
const REQUEST_TIMEOUT_MS = knob('LOAD_REQUEST_TIMEOUT_S', 30) * 1000;
const ROUNDS = knob('LOAD_ROUNDS', 3);
const proxyBin = process.env.CONFAB_PROXY ?? path.join(root, 'target/release/confab-proxy');

// ---------------------------------------------------------------- processes

const children = new Set();

/** Starts `cmd` and resolves with it and its address once it prints `listening on http://…`. */
function startServer(name, cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  // Keep reading both pipes for the whole run: a full pipe would block the
  // server's logging and, with it, the server.
  const keep = (d) => (output = (output + d).slice(-10_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 10 s: ${output}`)), 10_000);
    const onData = () => {
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}): ${output}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return children.delete(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

// A crash or Ctrl-C must not leave servers behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(130));
}

/** VmRSS and VmHWM (peak resident memory) of `pid`, in MiB. */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

// ------------------------------------------------------------------ client

/**
 * One streamed request. Times are from just before the request is sent:
 * first content chunk, end of body, and the gap before every content chunk
 * after the first. Chunks are counted per SSE `data:` event carrying
 * `delta.content`, however TCP groups them.
 */
function streamOnce(agent, url, body) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const result = { ok: false, status: 0, ttfc: NaN, total: NaN, chunks: 0, gaps: [], error: '' };
    let last = NaN;
    let buffer = '';
    let done = false;
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const finish = (error) => {
      result.total = performance.now() - t0;
      result.ok = !error && result.status === 200 && done && result.chunks === CHUNKS;
      result.error = error ?? (result.ok ? '' : `status ${result.status}, ${result.chunks} chunks, done=${done}`);
      resolve(result);
    };
    req.on('response', (res) => {
      result.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const now = performance.now();
        buffer += text;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (!data) continue;
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          // A cheap check instead of JSON.parse: the client's CPU is shared with the servers.
          if (!data.includes('"content"')) continue;
          result.chunks += 1;
          if (result.chunks === 1) result.ttfc = now - t0;
          else result.gaps.push(now - last);
          last = now;
        }
      });
      res.on('end', () => finish());
      res.on('error', (e) => finish(e.message));
    });
    req.on('error', (e) => finish(e.message));
    req.end(body);
  });
}

/** `count` requests, at most `concurrency` at once, none started after `deadline`. */
async function run(url, count, concurrency, deadline) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({ model: 'load-model', stream: true, messages: [{ role: 'user', content: 'Say something.' }] });
  const results = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      next += 1;
      results.push(await streamOnce(agent, url, body));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wall = performance.now() - started;
  agent.destroy();
  return { results, wall, skipped: count - results.length };
}

// ----------------------------------------------------------------- figures

/** Several runs as one: all their requests, their wall times added. */
function pool(runs) {
  return {
    results: runs.flatMap((r) => r.results),
    wall: runs.reduce((t, r) => t + r.wall, 0),
    skipped: runs.reduce((n, r) => n + r.skipped, 0),
  };
}

function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  // Nearest rank.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarize({ results, wall, skipped }) {
  const ok = results.filter((r) => r.ok);
  const chunks = results.reduce((n, r) => n + r.chunks, 0);
  return {
    ok: ok.length,
    failed: results.length - ok.length + skipped,
    firstError: results.find((r) => !r.ok)?.error ?? (skipped ? `${skipped} not started (time limit)` : ''),
    rps: (ok.length / wall) * 1000,
    cps: (chunks / wall) * 1000,
    ttfc: [percentile(ok.map((r) => r.ttfc), 50), percentile(ok.map((r) => r.ttfc), 99)],
    total: [percentile(ok.map((r) => r.total), 50), percentile(ok.map((r) => r.total), 99)],
    gap: [percentile(ok.flatMap((r) => r.gaps), 50), percentile(ok.flatMap((r) => r.gaps), 99)],
    wall,
  };
}

function printTable(direct, proxied, mem) {
  const f = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const pair = (p, digits = 1) => `${f(p[0], digits)} / ${f(p[1], digits)}`;
  const diff = (a, b) => [b[0] - a[0], b[1] - a[1]].map((n) => (n >= 0 ? '+' : '') + f(n)).join(' / ');
  const rows = [
    ['', 'direct', 'via confab-proxy', 'added by proxy'],
    ['requests ok / failed', `${direct.ok} / ${direct.failed}`, `${proxied.ok} / ${proxied.failed}`, ''],
    ['throughput, requests/s', f(direct.rps), f(proxied.rps), ''],
    ['throughput, chunks/s', f(direct.cps, 0), f(proxied.cps, 0), ''],
    ['first chunk p50 / p99, ms', pair(direct.ttfc), pair(proxied.ttfc), diff(direct.ttfc, proxied.ttfc)],
    ['total p50 / p99, ms', pair(direct.total), pair(proxied.total), diff(direct.total, proxied.total)],
    ['inter-chunk gap p50 / p99, ms', pair(direct.gap), pair(proxied.gap), diff(direct.gap, proxied.gap)],
    ['wall time, s', f(direct.wall / 1000, 2), f(proxied.wall / 1000, 2), ''],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(`confab-proxy memory: ${f(mem.idle.rss)} MiB resident when idle, peak (VmHWM) ${f(mem.after.hwm)} MiB`);
  for (const [name, s] of [['direct', direct], ['via confab-proxy', proxied]]) {
    if (s.failed) console.log(`${name}: first failure: ${s.firstError}`);
  }
}

// -------------------------------------------------------------------- main

async function main() {
  if (!fs.existsSync(proxyBin)) throw new Error(`${proxyBin} is missing: cargo build --release -p confab-proxy`);
  // A per-client rate limit would turn most of this load into 429s: turn it
  // off. The variable is harmless to a build that has no limit; the flag is
  // passed only if this build lists it.
  const help = execFileSync(proxyBin, ['--help'], { encoding: 'utf8' });
  const rateFlag = help.includes('--rate-limit-per-sec') ? ['--rate-limit-per-sec', '0'] : [];

  try {
    await measure(rateFlag);
  } finally {
    // Whatever started, also when a start or the run failed.
    await Promise.all([...children].map(stop));
  }
}

async function measure(rateFlag) {
  const upstream = await startServer('upstream', process.execPath, [path.join(here, 'sse-upstream.mjs'), String(CHUNKS), String(CHUNK_DELAY_MS)], process.env);
  const proxy = await startServer(
    'confab-proxy',
    proxyBin,
    ['--listen', '127.0.0.1:0', '--upstream-url', `${upstream.url}/v1`, ...rateFlag],
    {
      ...process.env,
      CONFAB_UPSTREAM_API_KEY: 'sk-load-test',
      CONFAB_RATE_LIMIT_PER_SEC: '0',
      // A key of its own, so no identity key file is written under $HOME.
      CONFAB_IDENTITY_KEY: randomBytes(32).toString('hex'),
      // Its per-request log lines would cost the proxy CPU it shares with the test.
      RUST_LOG: 'warn',
    },
  );
  console.log(
    `load: ${ROUNDS} rounds of ${REQUESTS} streamed requests per target, ${CONCURRENCY} at once, ${CHUNKS} chunks each ${CHUNK_DELAY_MS} ms apart ` +
      `(ideal: ${CHUNKS * CHUNK_DELAY_MS} ms per request); ${rateFlag.length ? 'rate limit off (--rate-limit-per-sec 0)' : 'this build has no rate limit flag'}`,
  );
  const direct = `${upstream.url}/v1/chat/completions`;
  const proxied = `${proxy.url}/api/v1/chat/completions`;
  const idle = memory(proxy.child.pid);
  // Warm-up, not counted: connections, allocator, JIT.
  await run(direct, 20, 10, performance.now() + TIME_LIMIT_MS);
  await run(proxied, 20, 10, performance.now() + TIME_LIMIT_MS);
  // Rounds in alternating order (D P, P D, D P, ...), pooled: on a shared
  // 2-core machine whichever runs first or second would otherwise carry
  // the drift of everything else running there.
  const pooled = { direct: [], proxied: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? ['direct', 'proxied'] : ['proxied', 'direct'];
    for (const target of order) {
      const url = target === 'direct' ? direct : proxied;
      pooled[target].push(await run(url, REQUESTS, CONCURRENCY, performance.now() + TIME_LIMIT_MS));
    }
  }
  const directStats = summarize(pool(pooled.direct));
  const proxyStats = summarize(pool(pooled.proxied));
  const after = memory(proxy.child.pid);
  console.log('');
  printTable(directStats, proxyStats, { idle, after });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
