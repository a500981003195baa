// Offline and installable (issue 18): the service worker (dist/sw.js) opens
// the page from its cache with the network gone or confab-proxy stopped, a
// message sent meanwhile is kept with Retry, a new build is offered and
// applied only when asked, the manifest makes the app installable, and the
// APIs are never cached. Real Chromium against the release build served by
// confab-proxy, stopped and restarted on the same port.
import { test, expect, ChatPage, PeerProcess, freePort } from './fixtures';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dist = path.resolve(__dirname, '../../dist');
const search = (page: Page) => page.getByRole('searchbox', { name: 'Search conversations' });
const offline = (page: Page) => page.locator('[data-role="offline"]');
const updatePrompt = (page: Page) => page.locator('[data-role="update"]');

/** Waits until a service worker controls the page (the first visit's claims it). */
async function controlled(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
}

/** The URLs in the page's caches, by cache name. */
async function cachedUrls(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const all: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      all[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    }
    return all;
  });
}

/** Sends a message and waits for its reply to complete. */
async function exchange(chat: ChatPage, text: string): Promise<void> {
  await chat.send(text);
  await chat.lastReplyDone();
}

/** Two conversations: alpha (Louvre, croissants), then beta (gardening), open. */
async function twoConversations(chat: ChatPage, page: Page): Promise<void> {
  await exchange(chat, 'alpha: the Louvre and the croissants of Montmartre');
  await page.getByRole('button', { name: 'New chat' }).click();
  await exchange(chat, 'beta: gardening in spring');
  await expect(chat.sessionButtons).toHaveCount(2);
}

/** What must work with no network or no proxy: listing, reading, searching. */
async function readableWithoutServer(chat: ChatPage, page: Page): Promise<void> {
  await expect(chat.box).toBeVisible();
  await expect(chat.sessionButtons).toHaveCount(2);
  await chat.sessionButtons.filter({ hasText: 'alpha' }).click();
  await expect(chat.userMessages).toHaveText(['alpha: the Louvre and the croissants of Montmartre']);
  await expect(chat.replies.first()).toContainText('You said');
  await search(page).fill('croissants');
  const results = page.locator('.search-results .session');
  await expect(results).toHaveCount(1);
  await expect(results.first().locator('mark')).toHaveText('croissants');
  await search(page).press('Escape');
}

test('first visit installs the worker; offline, the page opens with its conversations, keeps a message unsent, Retry sends it once back online; the APIs are never cached', async ({
  chat,
  page,
  context,
  server,
}) => {
  await controlled(page);
  const caches = await cachedUrls(page);
  const shell = Object.entries(caches).find(([name]) => name.startsWith('confab-shell-'));
  expect(shell, `caches: ${JSON.stringify(caches)}`).toBeDefined();
  const shellFiles = shell![1];
  for (const file of ['/', '/manifest.webmanifest', '/icons/confab.svg']) expect(shellFiles).toContain(file);
  expect(shellFiles.some((f) => /^\/confab-[0-9a-f]+_bg\.wasm$/.test(f))).toBe(true);
  // The render worker and the PNG icons are cached on first use, not at
  // install: a first visit does not download them.
  expect(Object.values(caches).flat().filter((f) => f.includes('render-worker') || f.endsWith('.png'))).toEqual([]);
  // Installing went through the HTTP cache: the page's wasm and JS crossed the wire once.
  const requests = server.requests();
  for (const hashed of [/^\/confab-[0-9a-f]+_bg\.wasm$/, /^\/confab-[0-9a-f]+\.js$/]) {
    const sent = requests.filter((r) => hashed.test(r.path));
    expect(sent, JSON.stringify(requests)).toHaveLength(1);
  }
  expect(requests.filter((r) => r.path.includes('render-worker'))).toEqual([]);

  await twoConversations(chat, page);

  await context.setOffline(true);
  const before = server.requests().length;
  await page.reload();
  await expect(offline(page)).toBeVisible();
  await expect(offline(page)).toContainText('Offline');
  await expect(offline(page)).toContainText('Retry');
  await readableWithoutServer(chat, page);
  expect(server.requests().length, 'an offline reload asks the server nothing').toBe(before);

  // The APIs are the network's: a request fails rather than coming from a cache.
  const api = await page.evaluate(async () => {
    try {
      const response = await fetch('/api/v1/models');
      return `answered ${response.status}`;
    } catch {
      return 'failed';
    }
  });
  expect(api).toBe('failed');

  await page.getByRole('button', { name: 'New chat' }).click();
  await chat.send('gamma: written on a train');
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('offline');
  await expect(failed.getByRole('alert')).toContainText('Your message is saved');
  await expect(chat.userMessages).toHaveText(['gamma: written on a train']);
  // Saved: a reload (still offline) shows it again.
  await page.reload();
  await expect(chat.userMessages).toHaveText(['gamma: written on a train']);

  await context.setOffline(false);
  await expect(offline(page)).toHaveCount(0);
  await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
  const reply = await chat.lastReplyDone();
  await expect(reply).toContainText('You said: "gamma: written on a train"');

  // No API answer was ever put in a cache.
  const after = Object.values(await cachedUrls(page)).flat();
  expect(after.filter((f) => /^\/(api|adk|otlp)\//.test(f))).toEqual([]);
  expect(after).toContain('/');
});

test('with confab-proxy stopped the page opens from the cache, a message waits with Retry, and goes once the proxy is back on the same port', async ({
  chat,
  page,
  server,
}) => {
  await controlled(page);
  await twoConversations(chat, page);
  await server.stop();
  await page.reload();
  await readableWithoutServer(chat, page);
  // The browser has a network: this is the proxy being away, not offline.
  await expect(offline(page)).toHaveCount(0);

  await page.getByRole('button', { name: 'New chat' }).click();
  await chat.send('gamma: while the proxy was down');
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('Could not reach the model proxy');
  await expect(chat.userMessages).toHaveText(['gamma: while the proxy was down']);

  await server.start();
  await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
  const reply = await chat.lastReplyDone();
  await expect(reply).toContainText('You said: "gamma: while the proxy was down"');
});

/**
 * A second build: dist/ copied, with a marker in index.html and another
 * version in sw.js (so the browser sees a new worker). The changed files'
 * compressed copies are dropped, so the proxy sends them as they are.
 */
function secondBuild(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-build-b-'));
  fs.cpSync(dist, dir, { recursive: true });
  for (const name of ['index.html', 'sw.js']) {
    for (const copy of ['.br', '.gz']) fs.rmSync(path.join(dir, name + copy), { force: true });
  }
  const index = path.join(dir, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<head>', '<head><meta name="confab-build" content="B" />'));
  const sw = path.join(dir, 'sw.js');
  const source = fs.readFileSync(sw, 'utf8');
  const changed = source.replace(/"version":"([0-9a-f]+)"/, (_, v: string) => `"version":"${v.slice(0, -1)}${v.endsWith('b') ? 'c' : 'b'}"`);
  expect(changed).not.toBe(source);
  fs.writeFileSync(sw, changed);
  return dir;
}

/** Which build the page runs: "A", "B", or "" while it is being replaced. */
const build = (page: Page) =>
  page
    .evaluate(() => document.querySelector('meta[name="confab-build"]')?.getAttribute('content') ?? 'A')
    .catch(() => '');

/** Marks the page's window: a reload (of any kind) loses the mark. */
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
const marked = (page: Page) => page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed === true);

/** The update check the page makes when its tab is shown again. */
const shown = (page: Page) => page.evaluate(() => document.dispatchEvent(new Event('visibilitychange', { bubbles: true })));

test.describe('a new build', () => {
  // Replies long enough to try Reload while one streams.
  test.use({ tokenDelayMs: 80 });

  test('is offered, never applied by itself nor mid-reply; Reload switches; an old and a new tab share the store intact', async ({
    chat,
    page,
    context,
    server,
  }) => {
    const b = secondBuild();
    try {
      await controlled(page);
      await exchange(chat, 'one: written before the update');
      const old = page;
      await mark(old);

      await server.stop();
      server.useDist(b);
      await server.start();
      await shown(old);
      await expect(updatePrompt(old)).toContainText('A new version is ready');
      const reload = updatePrompt(old).getByRole('button', { name: 'Reload' });
      await expect(reload).toBeEnabled();
      expect(await marked(old), 'the page did not reload by itself').toBe(true);
      expect(await build(old)).toBe('A');

      // A second tab, opened now, still gets the running version A, and
      // sees the waiting one at startup.
      const other = new ChatPage(await context.newPage());
      await other.goto(server.url);
      expect(await build(other.page)).toBe('A');
      await expect(updatePrompt(other.page)).toBeVisible();

      // While a reply streams in the first tab, its Reload waits.
      await chat.send('two: a reply streams while the update waits');
      await expect(chat.replies.last()).toHaveAttribute('data-status', 'streaming');
      await expect(reload).toBeDisabled();

      // The second tab applies the update; the first keeps streaming on A.
      await other.page.getByRole('button', { name: 'Reload' }).click();
      await expect.poll(() => build(other.page), { timeout: 15_000 }).toBe('B');
      await expect(other.box).toBeVisible();
      await expect(updatePrompt(other.page)).toHaveCount(0);
      await chat.lastReplyDone();
      expect(await marked(old), 'the old tab did not reload by itself').toBe(true);
      expect(await build(old)).toBe('A');
      await expect(updatePrompt(old)).toBeVisible();
      await expect(reload).toBeEnabled();

      // Both versions write (they share the stored format, schema version
      // included): nothing either wrote is lost.
      await other.page.getByRole('button', { name: 'New chat' }).click();
      await exchange(other, 'three: written by the new version');
      await old.getByRole('button', { name: 'New chat' }).click();
      await exchange(chat, 'four: written by the old version');

      await reload.click();
      await expect.poll(() => build(old), { timeout: 15_000 }).toBe('B');
      expect(await marked(old)).toBe(false);
      for (const tab of [chat, other]) {
        await tab.page.reload();
        await expect(tab.sessionButtons).toHaveCount(3);
      }
      await chat.sessionButtons.filter({ hasText: 'one:' }).click();
      await expect(chat.userMessages).toHaveText(['one: written before the update', 'two: a reply streams while the update waits']);
      await expect(chat.replies).toHaveCount(2);
      await expect(chat.replies.last()).toHaveAttribute('data-status', 'complete');
      for (const text of ['three: written by the new version', 'four: written by the old version']) {
        await chat.sessionButtons.filter({ hasText: text.slice(0, 5) }).click();
        await expect(chat.userMessages).toHaveText([text]);
      }
    } finally {
      fs.rmSync(b, { recursive: true, force: true });
    }
  });
});

test('the manifest parses in Chromium without errors and the app is installable, with no console warnings about it', async ({
  server,
}) => {
  // A profile on disk: Chromium installs nothing from an incognito context
  // (Playwright's default), and says so ("in-incognito").
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-install-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const console: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') console.push(message.text());
    });
    const chat = new ChatPage(page);
    await chat.goto(server.url);
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.url).toBe(`${server.url}/manifest.webmanifest`);
    expect(manifest.errors).toEqual([]);
    const parsed = JSON.parse(manifest.data ?? '{}');
    expect(parsed.name).toBe('Confab');
    expect(parsed.display).toBe('standalone');
    const installability = await cdp.send('Page.getInstallabilityErrors');
    expect(installability.installabilityErrors).toEqual([]);
    expect(console.filter((line) => /manifest|icon/i.test(line))).toEqual([]);
    // Served as a manifest, and checked again on each visit, as sw.js is.
    const response = await page.request.get(`${server.url}/manifest.webmanifest`);
    expect(response.headers()['content-type']).toContain('manifest+json');
    expect(response.headers()['cache-control']).toBe('no-cache');
    const sw = await page.request.get(`${server.url}/sw.js`);
    expect(sw.headers()['content-type']).toContain('javascript');
    expect(sw.headers()['cache-control']).toBe('no-cache');
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test("make dev's trunk serve (a debug build, on a port of its own) registers no service worker and removes one left on its origin", async ({ page }) => {
  // A debug build of the app and the render worker: minutes when cold.
  test.setTimeout(15 * 60_000);
  const root = path.resolve(__dirname, '../..');
  const trunk = path.join(os.homedir(), '.cargo/bin/trunk');
  const port = await freePort();
  // Its own output folder: trunk serve's default, dist/, holds the release
  // build the other tests serve.
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-dev-'));
  const serve = PeerProcess.spawn(trunk, ['--config', path.join(root, 'Trunk.toml'), 'serve', '--offline', '--port', String(port), '--dist', out]);
  try {
    const url = `http://127.0.0.1:${port}/`;
    await serve.waitReady('trunk serve', url, 14 * 60_000);
    expect(fs.existsSync(path.join(out, 'sw.js')), 'trunk serve writes no service worker').toBe(false);
    // Workers it would register if it did, served by trunk serve as they are.
    const worker = "self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\n";
    fs.writeFileSync(path.join(out, 'sw.js'), worker);
    fs.writeFileSync(path.join(out, 'left-over-sw.js'), worker);
    const registrations = () => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);

    const chat = new ChatPage(page);
    await chat.goto(url);
    // The page has run its startup, where a release build registers.
    await page.waitForTimeout(1_000);
    expect(await registrations()).toBe(0);

    // A worker left on this origin (as a release build served here would
    // leave one) is removed by the debug build's startup.
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/left-over-sw.js');
      await navigator.serviceWorker.ready;
    });
    expect(await registrations()).toBe(1);
    await page.reload();
    await expect(chat.box).toBeVisible();
    await expect.poll(registrations).toBe(0);
  } finally {
    await serve.stop();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
