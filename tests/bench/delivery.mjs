// Delivery benchmark: prints figures, asserts nothing.
//
// Run through `make bench-delivery`. It loads two chat UIs in headless
// Chromium, each as a new user would meet it, and prints side by side:
//
//  - Confab: the release build in dist/ served by target/release/confab-proxy
//    (its offline model; no upstream is needed to open the page);
//  - ADK web: `adk web` from the google-adk the tests install (.tools/adk),
//    the dev UI an ADK user would otherwise open, with one test agent chosen
//    in its URL so its message box appears.
//
// For each: bytes on the wire for a first visit, a second visit and a visit
// with the network gone, and the time from navigation to an interactive
// message box (visible, enabled), unthrottled and under a slow mobile
// profile (CDP network emulation: 150 ms latency, 1.6 Mbit/s down,
// 750 kbit/s up).
//
// Bytes on the wire are counted by a TCP relay between Chromium and the
// server: every byte of every connection, both ways, headers included, and
// whoever asks (the page, its service worker, the browser's update checks).
// A visit lasts until its box is interactive, then BENCH_DELIVERY_SETTLE_MS
// more, and until the wire has then been quiet for BENCH_DELIVERY_QUIET_MS,
// so what a service worker fetches after the page is ready (installing, or
// checking for a new version) counts with the visit that caused it.
//
// Every server it starts listens on 127.0.0.1 on a free port and is stopped
// at the end, also when something fails.

import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { CHROMIUM_ARGS, CHROMIUM_PATH, env, fmt, log, median, root, startProxy, stopChild } from './common.mjs';

const RUNS = env('BENCH_DELIVERY_RUNS', 3);
const QUIET_MS = env('BENCH_DELIVERY_QUIET_MS', 1500);
/** Least time a visit lasts after its box: Chromium checks a service
 * worker for updates a little after a navigation it answered, and that
 * check belongs to the visit that caused it. */
const SETTLE_MS = env('BENCH_DELIVERY_SETTLE_MS', 4000);
/** Longest a visit may take to show its box (ADK web needs ~35 s slowed). */
const VISIT_TIMEOUT_MS = env('BENCH_DELIVERY_TIMEOUT_MS', 90_000);
const OFFLINE_TIMEOUT_MS = 10_000;

/** Chromium's network emulation: bytes per second and ms of latency. */
const PROFILES = {
  unthrottled: null,
  'slow mobile': { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 },
};

// --- the wire ---------------------------------------------------------------

/** A TCP relay on a free loopback port in front of `targetPort` that counts
 * the bytes it carries each way. */
async function startRelay(targetPort) {
  const counts = { down: 0, up: 0, last: Date.now() };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => {
      counts.up += d.length;
      counts.last = Date.now();
    });
    upstream.on('data', (d) => {
      counts.down += d.length;
      counts.last = Date.now();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    reset() {
      counts.down = 0;
      counts.up = 0;
      counts.last = Date.now();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Resolves once the relay has carried nothing for `quietMs`. */
async function quiet(relay, quietMs) {
  for (;;) {
    const idle = Date.now() - relay.counts.last;
    if (idle >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, quietMs - idle + 10));
  }
}

// --- ADK web ------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startAdkWeb() {
  const port = await freePort();
  const child = spawn(
    path.join(root, '.tools/adk/bin/adk'),
    [
      'web', '--host', '127.0.0.1', '--port', String(port), '--log_level', 'warning',
      // In memory: nothing written into the agents folder.
      '--no_use_local_storage',
      path.join(root, 'tests/adk_agents'),
    ],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`adk web exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/list-apps`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`adk web did not answer in 60 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, port };
}

// --- one visit ------------------------------------------------------------------

/** Notes (performance.now(), from navigation start) when the message box
 * matching `selector` is first visible and enabled. */
function boxProbe(selector) {
  window.__boxReady = null;
  const check = () => {
    if (window.__boxReady !== null) return;
    const box = document.querySelector(selector);
    if (box && !box.disabled && box.getClientRects().length > 0 && getComputedStyle(box).visibility !== 'hidden') {
      window.__boxReady = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  check();
}

/** One visit in `context`: ms to the box (null if it never came) and the
 * bytes the relay carried until the wire was quiet after it. */
async function visit(context, relay, url, profile, timeoutMs) {
  const page = await context.newPage();
  try {
    if (profile) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', profile);
    }
    relay.reset();
    let boxMs = null;
    try {
      await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
      await page.waitForFunction(() => window.__boxReady != null, null, { timeout: timeoutMs, polling: 50 });
      boxMs = await page.evaluate(() => window.__boxReady);
    } catch (error) {
      log(`no message box at ${url}: ${String(error.message).split('\n')[0]}`);
    }
    // A service worker installing (precaching) counts with the visit.
    await page
      .evaluate(() => ('serviceWorker' in navigator && navigator.serviceWorker.controller === null
        ? Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(r, 5000))]).then(() => null)
        : null))
      .catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    await quiet(relay, QUIET_MS);
    return { boxMs, down: relay.counts.down, up: relay.counts.up };
  } finally {
    await page.close();
  }
}

/** A new user's first visit, then a second and an offline one, in one
 * browser context (its own HTTP cache, storage and service workers). */
async function visits(browser, relay, target, profile) {
  const context = await browser.newContext();
  try {
    await context.addInitScript(boxProbe, target.box);
    const first = await visit(context, relay, target.url, profile, VISIT_TIMEOUT_MS);
    const second = await visit(context, relay, target.url, profile, VISIT_TIMEOUT_MS);
    await context.setOffline(true);
    const offline = await visit(context, relay, target.url, profile, OFFLINE_TIMEOUT_MS);
    return { first, second, offline };
  } finally {
    await context.close();
  }
}

// --- figures ------------------------------------------------------------------------

const bytes = (runs, key) => {
  const values = runs.map((r) => r[key].down + r[key].up);
  const down = runs.map((r) => r[key].down);
  return { median: median(values), down: median(down), values };
};

const time = (runs, key) => {
  const values = runs.map((r) => r[key].boxMs);
  if (values.some((v) => v === null)) return { text: `no box in ${values.filter((v) => v === null).length} of ${values.length}`, values };
  return { text: `${fmt(median(values))} ms`, values };
};

async function main() {
  const started = [];
  let browser;
  try {
    log('starting confab-proxy and adk web');
    const proxy = await startProxy(null);
    started.push(() => stopChild(proxy.child));
    const confabRelay = await startRelay(Number(new URL(proxy.url).port));
    started.push(() => confabRelay.stop());
    const adk = await startAdkWeb();
    started.push(() => stopChild(adk.child));
    const adkRelay = await startRelay(adk.port);
    started.push(() => adkRelay.stop());

    const targets = [
      { name: 'Confab', relay: confabRelay, url: `${confabRelay.url}/`, box: 'textarea[aria-label="Message"]' },
      {
        name: 'ADK web',
        relay: adkRelay,
        url: `${adkRelay.url}/dev-ui/?app=streaming_agent`,
        box: 'textarea[placeholder="Type a message..."]',
      },
    ];

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const results = {};
    for (const [profileName, profile] of Object.entries(PROFILES)) {
      for (const target of targets) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) {
          const run = await visits(browser, target.relay, target, profile);
          log(
            `${target.name}, ${profileName}, run ${i + 1}: box ${run.first.boxMs?.toFixed(0)} / ${run.second.boxMs?.toFixed(0)} / ` +
              `${run.offline.boxMs?.toFixed(0) ?? 'none'} ms; down ${fmt(run.first.down)} / ${fmt(run.second.down)} / ` +
              `${fmt(run.offline.down)} B, up ${fmt(run.first.up)} / ${fmt(run.second.up)} / ${fmt(run.offline.up)} B`,
          );
          runs.push(run);
        }
        results[`${target.name}|${profileName}`] = runs;
      }
    }

    const row = (label, f) => [label, ...targets.map((t) => f(t))];
    const rows = [['', ...targets.map((t) => t.name)]];
    const at = (t, p) => results[`${t.name}|${p}`];
    for (const key of ['first', 'second', 'offline']) {
      rows.push(
        row(`${key} visit: bytes on the wire (down + up)`, (t) => {
          const b = bytes(at(t, 'unthrottled'), key);
          return `${fmt(b.median)} (${fmt(b.down)} down)`;
        }),
      );
    }
    for (const p of Object.keys(PROFILES)) {
      for (const key of ['first', 'second', 'offline']) {
        rows.push(row(`${p}, ${key} visit: message box`, (t) => time(at(t, p), key).text));
      }
    }
    const width = rows.map((r) => r[0].length).reduce((a, b) => Math.max(a, b));
    const colWidth = (i) => Math.max(...rows.map((r) => String(r[i]).length));
    console.log(`Delivery (median of ${RUNS} runs; each a new browser context: first, second and offline visit)`);
    for (const r of rows) {
      console.log(`  ${r[0].padEnd(width)}  ${r.slice(1).map((c, i) => String(c).padStart(colWidth(i + 1))).join('  ')}`);
    }
    console.log('  Bytes: every byte the TCP relay in front of each server carried, both ways, headers included,');
    console.log(`  from navigation until ${SETTLE_MS} ms after the box was ready and the wire then quiet for ${QUIET_MS} ms`);
    console.log('  (a service worker installing or checking for updates included). Message box: navigation start to the first frame with it visible');
    console.log('  and enabled. Slow mobile: CDP emulation, 150 ms latency, 1.6 Mbit/s down, 750 kbit/s up.');
    console.log('  Offline: context.setOffline(true); "no box" means the page did not open. It takes the page and its');
    console.log("  service worker off the network, not the browser's own check of sw.js for a new version after a");
    console.log('  navigation, which the relay still sees (a 304, about 865 B both ways); on a real outage it fails.');
    console.log('  Every run (first / second / offline):');
    for (const [key, runs] of Object.entries(results)) {
      const list = (k) => runs.map((r) => (r[k].boxMs === null ? 'none' : r[k].boxMs.toFixed(0))).join(', ');
      console.log(`    ${key.replace('|', ', ')}: box [${list('first')}] / [${list('second')}] / [${list('offline')}] ms; ` +
        `bytes [${runs.map((r) => fmt(r.first.down + r.first.up)).join(', ')}] / [${runs.map((r) => fmt(r.second.down + r.second.up)).join(', ')}] / ` +
        `[${runs.map((r) => fmt(r.offline.down + r.offline.up)).join(', ')}]`);
    }
  } finally {
    await browser?.close();
    for (const stop of started.reverse()) await stop().catch(() => {});
  }
}

await main();
