// Nothing lost after a crash: the whole browser SIGKILLed mid-reply and
// started again on its profile, the renderer alone crashed, and two live
// tabs. What reached the disk comes back at once; what is still being
// written in another tab is shown as such; Retry never throws text away.
import { expect, ChatPage } from './fixtures';
import { scriptedTest as test, type ScriptedUpstream } from './scripted-upstream';
import { OwnBrowser, Profile } from './own-browser';
import { unpacked, unpackedStorage } from './stored';
import type { BrowserContext, Page } from '@playwright/test';

type StoredEvent = {
  id: string;
  author: string;
  status?: string;
  errorMessage?: string;
  content?: { parts?: { text?: string }[] };
};
type StoredSession = { id: string; events: StoredEvent[] };
type StoredDraft = { call: { sessionId: string }; eventId: string; text: string };

const textOf = (e: StoredEvent) => (e.content?.parts ?? []).map((p) => p.text ?? '').join('');

/** The sessions and drafts among unpacked entries. */
function contents(entries: Record<string, string>): { sessions: StoredSession[]; drafts: StoredDraft[] } {
  const of = <T>(prefix: string) =>
    Object.entries(entries)
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => JSON.parse(v) as T);
  return { sessions: of<StoredSession>('confab:session:'), drafts: of<StoredDraft>('confab:draft:') };
}

/**
 * Records the origin's localStorage as the page finds it, before the app
 * runs: after a crash, that is what the browser had put on disk.
 */
async function recordStorageAtStart(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const local: Record<string, string> = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      local[key] = localStorage.getItem(key)!;
    }
    // The bulk store (format 6: bodies and records in IndexedDB), read in a
    // transaction started before the app's first; localStorage's values
    // (not yet moved there) go over it, an empty bulk value a removal.
    const bulk = (k: string) => k.startsWith('confab:session:') || k.startsWith('confab:conversation:');
    (window as unknown as { __storageAtStart: Promise<Record<string, string>> }).__storageAtStart = new Promise((resolve) => {
      const open = indexedDB.open('confab-store', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('kv');
      open.onsuccess = () => {
        const tx = open.result.transaction('kv');
        const keys = tx.objectStore('kv').getAllKeys();
        const values = tx.objectStore('kv').getAll();
        tx.oncomplete = () => {
          open.result.close();
          const all: Record<string, string> = {};
          keys.result.forEach((key, i) => (all[String(key)] = values.result[i]));
          for (const [key, value] of Object.entries(local)) {
            if (bulk(key) && value === '') delete all[key];
            else all[key] = value;
          }
          resolve(all);
        };
      };
    });
  });
}

async function storageAtStart(page: Page): Promise<Record<string, string>> {
  const raw = await page.evaluate(() => (window as unknown as { __storageAtStart: Promise<Record<string, string>> }).__storageAtStart);
  return unpacked(page, raw);
}

/** Crashes the page's renderer process (CDP `Page.crash`), as an out-of-memory tab dies. */
async function crashRenderer(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash');
  // Never answered: the process that would answer is gone.
  void cdp.send('Page.crash').catch(() => {});
  await crashed;
}

/** Opens the app; resolves once the message box is there. */
async function openApp(page: Page, url: string): Promise<ChatPage> {
  const chat = new ChatPage(page);
  await chat.goto(url);
  return chat;
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i + 1}`).join(' ') + '.';

test.describe.configure({ timeout: 240_000 });

/**
 * A long reply: a model that thinks for `firstDelayMs`, then `count` words,
 * `delayMs` apart.
 */
function slowReply(upstream: ScriptedUpstream, firstDelayMs: number, count = 80, delayMs = 100): string {
  const text = words(count);
  upstream.fallback = { kind: 'reply', text, delayMs, firstDelayMs };
  return text;
}

/** Where in a reply the browser is killed, and what the disk must hold then for the point to be what it says. */
type KillPoint = {
  name: string;
  /** Resolves when the browser should die (the reply was sent at `sentAt`). */
  at: (chat: ChatPage, browser: OwnBrowser, sentAt: number) => Promise<void>;
  onDisk: (draft: StoredDraft | undefined, reply: StoredEvent | undefined) => boolean;
};

type Outcome = { row: string; problems: string[]; commits: number[] };

/** Whether one text's words begin the other's (a draft a moment older or newer than what was seen). */
function samePrefix(a: string, b: string): boolean {
  const [x, y] = [a.split(/\s+/).filter(Boolean), b.split(/\s+/).filter(Boolean)];
  const n = Math.min(x.length, y.length);
  return x.slice(0, n - 1).join(' ') === y.slice(0, n - 1).join(' ') && (x[n - 1].startsWith(y[n - 1]) || y[n - 1].startsWith(x[n - 1]));
}

const streamingText = (chat: ChatPage) => chat.page.locator('[data-role="assistant"][data-status="streaming"] .text');

/**
 * Chromium writes localStorage to disk 5 s after a first change, then (60
 * commits an hour) about once a minute: the points wait for those commits
 * where they need a state on disk, so the matrix covers an empty draft, a
 * draft with text and a finished reply.
 */
const killPoints: KillPoint[] = [
  {
    name: 'before the first token',
    at: async (chat, browser, sentAt) => {
      await browser.committedAfter(sentAt);
      await expect(streamingText(chat)).toHaveText('');
    },
    onDisk: (draft) => draft !== undefined && draft.text === '',
  },
  {
    name: 'early',
    at: async (chat) => expect(streamingText(chat)).toContainText('word2', { timeout: 30_000 }),
    onDisk: (draft) => draft !== undefined,
  },
  {
    name: 'middle',
    at: async (chat, browser) => {
      await expect(streamingText(chat)).toContainText('word10', { timeout: 30_000 });
      await browser.committedAfter(Date.now());
      await expect(streamingText(chat)).toHaveCount(1);
    },
    onDisk: (draft) => draft !== undefined && draft.text.length > 0,
  },
  {
    name: 'during the final save',
    // Killed from inside the page, the moment the finished reply's draft is removed.
    at: async (chat) => {
      await chat.page.waitForFunction(() => (window as unknown as { __finalSave?: boolean }).__finalSave === true, null, {
        timeout: 120_000,
        polling: 5,
      });
    },
    onDisk: (draft) => draft !== undefined && draft.text.length > 0,
  },
  {
    name: 'after it',
    at: async (chat, browser) => {
      await chat.lastReplyDone();
      await browser.committedAfter(Date.now());
    },
    onDisk: (draft, reply) => draft === undefined && reply !== undefined && reply.status === undefined,
  },
];

/** Runs one kill point in a browser of its own, relaunched at once on the same profile. */
async function killAt(point: KillPoint, url: string, retry: boolean): Promise<Outcome> {
  const profile = new Profile();
  let browser = await OwnBrowser.launch(profile);
  const problems: string[] = [];
  try {
    await recordStorageAtStart(browser.context);
    await browser.context.addInitScript(() => {
      // Marks the final save: the moment a finished reply's draft is removed.
      const remove = Storage.prototype.removeItem;
      Storage.prototype.removeItem = function (key: string) {
        remove.call(this, key);
        if (key.startsWith('confab:draft:')) (window as unknown as { __finalSave?: boolean }).__finalSave = true;
      };
    });
    let chat = await openApp(await browser.context.newPage(), url);
    const opened = Date.now();
    await chat.send(`Kill me ${point.name}`);
    const sentAt = Date.now();
    await point.at(chat, browser, sentAt);
    const killedAt = Date.now();
    const commits = browser.commits.filter((t) => t >= opened).map((t) => t - opened);
    const lastCommit = browser.commits.filter((t) => t <= killedAt).at(-1);
    await browser.kill();

    browser = await OwnBrowser.launch(profile);
    await recordStorageAtStart(browser.context);
    chat = new ChatPage(await browser.context.newPage());
    await chat.goto(url);
    const ready = Date.now();
    const before = contents(await storageAtStart(chat.page));
    const reply = before.sessions[0]?.events.find((e) => e.author !== 'user');
    // A draft whose reply the body already holds finished (the bulk store
    // committed the final save, localStorage's removal of the draft had not
    // reached the disk) is superseded: the finished reply is shown.
    const superseded = before.drafts.find((d) => reply !== undefined && reply.id === d.eventId && reply.status === undefined);
    const draft = superseded ? undefined : before.drafts[0];
    // Settled within a second: no message left streaming.
    let settledIn = -1;
    try {
      await expect(chat.page.locator('[data-status="streaming"]')).toHaveCount(0, { timeout: 1_000 });
      if (draft) await expect(chat.replies.last()).toHaveAttribute('data-status', 'interrupted', { timeout: 1_000 });
      settledIn = Date.now() - ready;
    } catch {
      problems.push('not settled within a second of the page being ready');
    }
    const after = contents(await unpackedStorage(chat.page));
    const afterEvents = new Map(after.sessions.flatMap((s) => s.events.map((e) => [e.id, e] as const)));
    const lost = before.sessions
      .flatMap((s) => s.events)
      .filter((e) => afterEvents.get(e.id) === undefined || textOf(afterEvents.get(e.id)!) !== textOf(e));
    if (lost.length > 0) problems.push(`${lost.length} message(s) lost`);
    if (after.drafts.length > 0) problems.push(`${after.drafts.length} draft(s) left`);
    if (after.sessions.some((s) => s.events.some((e) => e.status === 'streaming'))) problems.push('a stored reply left streaming');
    if (draft) {
      const recovered = afterEvents.get(draft.eventId);
      if (!recovered || recovered.status !== 'interrupted' || textOf(recovered) !== draft.text) problems.push('the draft was not saved as it was');
      if ((await chat.page.getByText('No reply was saved').count()) > 0) problems.push('"No reply was saved" shown where a draft existed');
      const shown = chat.replies.last();
      if (((await shown.locator('.text').textContent()) ?? '').trimEnd() !== draft.text.trimEnd()) problems.push('the reply shown is not the draft');
    }
    if (!point.onDisk(draft ?? superseded, reply)) problems.push('the disk did not hold what this point should leave');
    const onDisk = draft
      ? `a draft of ${draft.text.length} chars`
      : reply
        ? `a reply (${reply.status ?? 'complete'}, ${textOf(reply).length} chars)${superseded ? ' + its draft' : ''}`
        : 'no reply';
    const shownStatus = (await chat.replies.last().getAttribute('data-status')) ?? '-';

    if (retry && draft) {
      // Retry: a new reply, and the partial one stays, as an earlier version.
      await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
      await chat.lastReplyDone();
      await chat.page.reload();
      const texts = await chat.replies.locator('.text').allTextContents();
      const statuses = await Promise.all((await chat.replies.all()).map((r) => r.getAttribute('data-status')));
      if (texts.length !== 2 || texts[0].trimEnd() !== draft.text.trimEnd() || statuses[0] !== 'interrupted' || statuses[1] !== 'complete') {
        problems.push(`after Retry and a reload the replies are ${JSON.stringify(statuses)}, the first ${texts[0]?.length} chars`);
      }
    }
    const row = [
      point.name.padEnd(22),
      `${String(killedAt - sentAt).padStart(6)} ms`,
      `${String(lastCommit === undefined ? '-' : killedAt - lastCommit).padStart(6)} ms`,
      `${before.sessions[0]?.events.length ?? 0} event(s) + ${onDisk}`.padEnd(40),
      shownStatus.padEnd(11),
      String(lost.length).padStart(4),
      `${String(settledIn).padStart(4)} ms`,
      problems.join('; ') || 'ok',
    ].join(' | ');
    return { row, problems, commits };
  } finally {
    await browser.close();
    profile.remove();
  }
}

test('the browser SIGKILLed at five points of a reply and relaunched at once: what reached the disk comes back within a second, nothing is lost, Retry keeps the partial reply', async ({ server, upstream }) => {
  // The long reply: the model thinks for 7 s, then writes for about 80 s,
  // so Chromium's commit a minute after the page opened falls inside it.
  const long = { kind: 'reply' as const, text: words(400), delayMs: 200, firstDelayMs: 7_000 };
  // "After it" needs a reply finished before that commit.
  const short = { kind: 'reply' as const, text: words(20), delayMs: 100, firstDelayMs: 1_000 };
  const asked = new Set<string>();
  upstream.respond = (request) => {
    const question = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    const first = !asked.has(question);
    asked.add(question);
    // A retry is answered at once.
    if (!first) return { kind: 'reply', text: 'A whole reply this time.' };
    return question === 'Kill me after it' ? short : long;
  };
  // In parallel, each in a browser of its own: they share the minute that
  // Chromium's commits take.
  const outcomes = await Promise.all(killPoints.map((point) => killAt(point, server.url, point.name === 'middle')));
  console.log(
    [
      "kill point             | after send | last commit | on disk at the kill                      | shown as    | lost | settled | verdict",
      ...outcomes.map((o) => o.row),
      `Chromium's commits to disk, ms after the page opened (the "after it" browser): ${outcomes[4].commits.join(', ')}`,
    ].join('\n'),
  );
  expect(outcomes.flatMap((o, i) => o.problems.map((p) => `${killPoints[i].name}: ${p}`))).toEqual([]);
});

test('the renderer alone crashed mid-reply, a new tab opened at once: the partial reply is there, interrupted, within a second', async ({ server, upstream, context }) => {
  slowReply(upstream, 0);
  const chat = await openApp(await context.newPage(), server.url);
  await chat.send('Crash while you answer');
  await expect(streamingText(chat)).toContainText('word10');
  const seen = (await streamingText(chat).textContent()) ?? '';
  await crashRenderer(context, chat.page);

  const next = new ChatPage(await context.newPage());
  await next.goto(server.url);
  const ready = Date.now();
  const reply = next.replies.last();
  await expect(reply).toHaveAttribute('data-status', 'interrupted', { timeout: 1_000 });
  console.log(`renderer crash: recovered ${Date.now() - ready} ms after the page was ready`);
  const kept = (await reply.locator('.text').textContent()) ?? '';
  // Drafts are written every 250 ms: what was on screen, give or take that.
  expect(kept.length).toBeGreaterThan(0);
  expect(samePrefix(seen, kept)).toBe(true);
  await expect(next.page.getByText('No reply was saved')).toHaveCount(0);
  await reply.getByRole('button', { name: 'Retry' }).click();
  await expect(next.replies).toHaveCount(2);
  await expect(next.replies.first().locator('.text')).toHaveText(kept);
  await expect(next.replies.first()).toHaveAttribute('data-status', 'interrupted');
});

test("two live tabs: the second shows the first one's reply being written, then finished", async ({ server, upstream, context }) => {
  const full = slowReply(upstream, 2_000);
  const first = await openApp(await context.newPage(), server.url);
  await first.send('Write while another tab watches');
  const second = await openApp(await context.newPage(), server.url);
  const watched = second.replies.last();
  // Before the first token: a reply on its way, not a missing one.
  await expect(watched).toHaveAttribute('data-status', 'streaming');
  await expect(watched.locator('.elsewhere')).toHaveText('Being written in another tab…');
  await expect(second.page.getByText('No reply was saved')).toHaveCount(0);
  // Its text follows the first tab's draft.
  await expect(watched.locator('.text')).toContainText('word5');
  await expect(watched.locator('.text')).toContainText('word15');
  await first.lastReplyDone();
  try {
    await expect(watched).toHaveAttribute('data-status', 'complete');
  } catch (error) {
    // What the watching tab showed, and what each tab's copy of the store held.
    const shown = await second.page.locator('[data-role="assistant"]').evaluateAll((replies) =>
      replies.map((r) => `${r.getAttribute('data-status')} ${r.querySelector('.elsewhere')?.textContent ?? ''}`),
    );
    const held = async (page: Page) =>
      Object.entries(await unpackedStorage(page))
        .filter(([key]) => key.startsWith('confab:session:') || key.startsWith('confab:draft'))
        .map(([key, value]) => `${key}: ${[...value.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]).join(',') || value.length}`);
    console.log(`watching tab shows ${JSON.stringify(shown)}\nits store: ${(await held(second.page)).join(' | ')}\nthe writer's: ${(await held(first.page)).join(' | ')}`);
    throw error;
  }
  await expect(watched.locator('.text')).toHaveText(full);
  await expect(second.replies).toHaveCount(1);
  await expect(second.page.locator('.elsewhere')).toHaveCount(0);
  // And the second tab can go on with it.
  await expect(watched.getByRole('button', { name: 'Regenerate' })).toBeVisible();
});

test('a tab watching another tab\'s reply sees it saved as interrupted the moment that tab crashes', async ({ server, upstream, context }) => {
  slowReply(upstream, 0);
  const writer = await openApp(await context.newPage(), server.url);
  await writer.send('Crash while the other tab watches');
  const watcher = await openApp(await context.newPage(), server.url);
  const watched = watcher.replies.last();
  await expect(watched.locator('.elsewhere')).toHaveText('Being written in another tab…');
  await expect(watched.locator('.text')).toContainText('word10');
  await crashRenderer(context, writer.page);
  const diedAt = Date.now();
  // The browser releases the dead tab's lock; the watcher saves the draft.
  await expect(watched).toHaveAttribute('data-status', 'interrupted', { timeout: 1_000 });
  console.log(`watched reply saved ${Date.now() - diedAt} ms after its tab crashed`);
  await expect(watcher.page.locator('.elsewhere')).toHaveCount(0);
  const kept = (await watched.locator('.text').textContent()) ?? '';
  expect(kept).toContain('word10');
  const stored = await unpackedStorage(watcher.page);
  expect(Object.keys(stored).filter((k) => k.startsWith('confab:draft:'))).toEqual([]);
  await watcher.page.reload();
  await expect(watcher.replies.last()).toHaveAttribute('data-status', 'interrupted');
  await expect(watcher.replies.last().locator('.text')).toHaveText(kept);
});

test.describe('a browser without Web Locks', () => {
  test("falls back to the draft's age: a crashed tab's reply shows as perhaps being written, then as interrupted once still for 15 s", async ({ server, upstream, context }) => {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
    });
    slowReply(upstream, 0);
    const chat = await openApp(await context.newPage(), server.url);
    await chat.send('Crash me');
    await expect(streamingText(chat)).toContainText('word5');
    // Drafts are written every 250 ms: let one with word5 be written.
    await chat.page.waitForTimeout(400);
    await crashRenderer(context, chat.page);

    const next = new ChatPage(await context.newPage());
    await next.goto(server.url);
    const reply = next.replies.last();
    // It cannot tell a dead tab from a live one at once...
    await expect(reply).toHaveAttribute('data-status', 'streaming');
    await expect(reply.locator('.elsewhere')).toContainText('Perhaps still being written in another tab');
    const kept = (await reply.locator('.text').textContent()) ?? '';
    expect(kept).toContain('word5');
    // ...so the draft's age decides.
    await expect(reply).toHaveAttribute('data-status', 'interrupted', { timeout: 20_000 });
    await expect(reply.locator('.text')).toHaveText(kept);
    await expect(next.page.locator('.elsewhere')).toHaveCount(0);
  });
});
