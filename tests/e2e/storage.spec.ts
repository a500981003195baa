// Storage that never loses a conversation, in real Chromium with real
// localStorage: corrupt entries, a full quota, a store from an older or a
// newer version, a tab killed mid-reply, two tabs at once, export and import.
import { test, expect, downloadText, ChatPage } from './fixtures';
import { clearStore, storage, unpackedStorage, sessionKeys } from './stored';
import type { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

const fixtures = path.resolve(__dirname, '../../core/tests/fixtures');

/**
 * Fills localStorage to the brim with another app's data (keys outside
 * Confab's namespace), halving the chunk size until not one more character
 * fits. Returns how many characters were written.
 */
async function fillToTheBrim(page: Page): Promise<number> {
  return page.evaluate(() => {
    let size = 1 << 20;
    let written = 0;
    let n = 0;
    while (size >= 1) {
      try {
        localStorage.setItem(`other-app:filler:${n}`, 'x'.repeat(size));
        written += size;
        n++;
      } catch {
        size = Math.floor(size / 2);
      }
    }
    return written;
  });
}

async function clearFiller(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith('other-app:filler:')) localStorage.removeItem(key);
    }
  });
}

async function chatOnce(chat: ChatPage, text: string) {
  await chat.send(text);
  await expect(chat.userMessages.last()).toHaveText(text);
  return chat.lastReplyDone();
}

const notice = (page: Page) => page.locator('.notice[role="alert"]');

test('a corrupt session and a corrupt index entry are moved aside; everything else loads and works', async ({ chat, page }) => {
  await chatOnce(chat, 'First conversation');
  await page.getByRole('button', { name: 'New chat' }).click();
  await chatOnce(chat, 'Second conversation');
  const before = await unpackedStorage(page);
  const keys = sessionKeys(before);
  expect(keys).toHaveLength(2);
  const broken = keys.find((k) => before[k].includes('First conversation'))!;
  // The healthy conversation's own index entry (format 5: one per conversation).
  const healthyEntry = keys.find((k) => k !== broken)!.replace('confab:session:', 'confab:entry:');
  expect(before[healthyEntry]).toContain('"listed"');

  await page.evaluate(
    ([session, entry]) => {
      localStorage.setItem(session, '{"id": "half a sess');
      localStorage.setItem(entry, 'not json at all');
    },
    [broken, healthyEntry],
  );
  await page.reload();
  await expect(chat.box).toBeVisible();

  // The bad entry is reported, kept under a quarantine key, and made anew
  // from its conversation.
  await expect(notice(page)).toContainText(`The stored entry ${healthyEntry} could not be read`);
  expect(JSON.parse((await storage(page))[healthyEntry]).listed.title).toBe('Second conversation');
  // The broken body is found when its conversation is opened (its entry is
  // fine, so it is listed until then): reported, moved aside, off the list.
  await expect(chat.sessionButtons).toHaveText(['Second conversation', 'First conversation']);
  await chat.sessionButtons.filter({ hasText: 'First conversation' }).click();
  await expect(notice(page)).toContainText(`The stored entry ${broken} could not be read`);
  const after = await storage(page);
  const quarantined = Object.entries(after).filter(([k]) => k.startsWith('confab:quarantine:'));
  expect(quarantined.map(([, v]) => v).sort()).toEqual(['not json at all', '{"id": "half a sess'].sort());
  expect(after[broken]).toBeUndefined();

  // The healthy conversation is listed and still works.
  await expect(chat.sessionButtons).toHaveText(['Second conversation']);
  await chat.sessionButtons.first().click();
  await expect(chat.userMessages).toHaveText(['Second conversation']);
  await chatOnce(chat, 'Still working');
  await page.reload();
  await expect(chat.userMessages).toHaveText(['Second conversation', 'Still working']);
  await expect(chat.replies).toHaveCount(2);
});

test('an unreadable confab:index left from an upgrade is moved aside and every conversation stays listed', async ({ chat, page }) => {
  await chatOnce(chat, 'First conversation');
  await page.getByRole('button', { name: 'New chat' }).click();
  await chatOnce(chat, 'Second conversation');
  await page.evaluate(() => localStorage.setItem('confab:index', 'not json at all'));
  await page.reload();
  await expect(chat.box).toBeVisible();

  await expect(notice(page)).toContainText('The stored entry confab:index could not be read');
  await expect(notice(page)).toContainText('the list was rebuilt');
  const after = await storage(page);
  expect(after['confab:index']).toBeUndefined();
  const quarantined = Object.entries(after).filter(([k]) => k.startsWith('confab:quarantine:'));
  expect(quarantined.map(([, v]) => v)).toEqual(['not json at all']);
  await expect(chat.sessionButtons).toHaveText(['Second conversation', 'First conversation']);
  await chat.sessionButtons.filter({ hasText: 'First conversation' }).click();
  await expect(chat.userMessages).toHaveText(['First conversation']);
});

test('with storage full before chatting, the text stays in the box, a banner says why, and nothing half-written remains', async ({ chat, page }) => {
  await chatOnce(chat, 'An older conversation');
  await page.getByRole('button', { name: 'New chat' }).click();
  const before = await storage(page);
  const filled = await fillToTheBrim(page);
  expect(filled).toBeGreaterThan(1_000_000);

  await chat.send('This will not fit');
  const banner = page.locator('.storage-full');
  await expect(banner).toContainText('Browser storage is full.');
  // What uses the space, per conversation, with ways to make room.
  await expect(banner.locator('.usage li')).toHaveCount(1);
  await expect(banner.locator('.usage li').first()).toContainText('An older conversation');
  await expect(banner.getByRole('button', { name: 'Export all (backup)' })).toBeVisible();
  // The typed text is kept; no message was shown as sent.
  await expect(chat.box).toHaveValue('This will not fit');
  await expect(chat.userMessages).toHaveCount(0);
  // Confab's entries are exactly as they were: no half-written session.
  const after = await storage(page);
  const confab = (all: Record<string, string>) =>
    Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('confab:') && k !== 'confab:settings'));
  expect(confab(after)).toEqual(confab(before));

  // Room again (the other app's data is gone): the same text sends and is saved.
  await clearFiller(page);
  await chat.box.press('Enter');
  await chat.lastReplyDone();
  await page.reload();
  await expect(chat.userMessages).toHaveText(['This will not fit']);
  await expect(chat.replies).toHaveCount(1);
});

test('with storage full, a conversation is deleted from the banner only on a second click', async ({ chat, page }) => {
  await chatOnce(chat, 'An older conversation');
  await page.getByRole('button', { name: 'New chat' }).click();
  await chatOnce(chat, 'Keep this one');
  await page.getByRole('button', { name: 'New chat' }).click();
  // localStorage lists its keys in no set order.
  const sessionsBefore = sessionKeys(await storage(page)).sort();
  await fillToTheBrim(page);
  await chat.send('This will not fit');
  const banner = page.locator('.storage-full');
  await expect(banner).toContainText('Browser storage is full.');

  const row = banner.locator('.usage li', { hasText: 'An older conversation' });
  const button = row.getByRole('button');
  // The first click only arms the button: nothing is deleted yet.
  await button.click();
  await expect(button).toHaveText('Delete for good');
  expect(sessionKeys(await storage(page)).sort()).toEqual(sessionsBefore);
  await expect(chat.sessionButtons).toHaveText(['Keep this one', 'An older conversation']);
  // Moving focus away disarms it.
  await chat.box.focus();
  await expect(button).toHaveText('Delete');

  await button.click();
  await button.click();
  await expect(chat.sessionButtons).toHaveText(['Keep this one']);
  expect(sessionKeys(await storage(page))).toHaveLength(sessionsBefore.length - 1);
  // The typed text is still in the box, to send once there is room.
  await expect(chat.box).toHaveValue('This will not fit');
});

test.describe('a slow model', () => {
  test.use({ tokenDelayMs: 60 });

  test('storage filling up during a reply keeps the reply on screen, and saves it once there is room', async ({ chat, page }) => {
    await chat.send('Fill up while you answer');
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"]');
    await expect(streaming.locator('.text')).toContainText('confab-echo');
    await fillToTheBrim(page);
    const reply = await chat.lastReplyDone();
    const text = (await reply.locator('.text').textContent()) ?? '';
    expect(text).toContain('You said: "Fill up while you answer"');
    await expect(page.locator('.storage-full')).toContainText('1 reply not saved yet');

    await clearFiller(page);
    await page.locator('.storage-full').getByRole('button', { name: 'Try saving again' }).click();
    await expect(page.locator('.storage-full')).toHaveCount(0);
    await page.reload();
    await expect(chat.userMessages).toHaveText(['Fill up while you answer']);
    await expect(chat.replies.first()).toHaveAttribute('data-status', 'complete');
    await expect(chat.replies.first().locator('.text')).toHaveText(text);
  });

  test('a reply cut off by a reload comes back as interrupted, with what had arrived, and Retry', async ({ chat, page }) => {
    await chat.send('Tell me something long');
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"]');
    await expect(streaming.locator('.text')).toContainText('You said');
    // Drafts are written at most every 250 ms; let one be written.
    await page.waitForTimeout(400);
    const seen = (await streaming.locator('.text').textContent()) ?? '';
    await page.reload();

    const reply = chat.replies.first();
    await expect(reply).toHaveAttribute('data-status', 'interrupted');
    const kept = (await reply.locator('.text').textContent()) ?? '';
    expect(kept.length).toBeGreaterThan(0);
    expect(seen.startsWith(kept.trim()) || kept.startsWith(seen.trim())).toBe(true);
    await reply.getByRole('button', { name: 'Retry' }).click();
    await chat.lastReplyDone();
    await page.reload();
    await expect(chat.replies.last()).toHaveAttribute('data-status', 'complete');
    // Retry threw nothing away: the partial reply stays, as an earlier version.
    await expect(chat.replies).toHaveCount(2);
    await expect(chat.replies.first()).toHaveAttribute('data-status', 'interrupted');
    await expect(chat.replies.first().locator('.text')).toHaveText(kept);
    // Never shown as forever in progress.
    await expect(page.locator('[data-status="streaming"]')).toHaveCount(0);
  });
});

test('a store written by a newer version is left untouched and the app says so', async ({ chat, page }) => {
  await chatOnce(chat, 'Written by this version');
  await page.evaluate(() => localStorage.setItem('confab:meta', JSON.stringify({ schema: 99 })));
  const before = await storage(page);
  await page.reload();
  await expect(page.locator('.blocked')).toContainText('written by a newer version of Confab');
  await chat.box.fill('Try anyway');
  await chat.box.press('Enter');
  await page.waitForTimeout(300);
  expect(await storage(page)).toEqual(before);
});

test('a store of format 1 is upgraded, and its backup dropped once the new store reads back', async ({ chat, page }) => {
  const v1: Record<string, string> = JSON.parse(fs.readFileSync(path.join(fixtures, 'store-v1.json'), 'utf8'));
  await clearStore(page);
  await page.evaluate((entries) => {
    for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
  }, v1);
  await page.reload();
  await expect(page.locator('.notice')).toContainText('upgraded from storage format 1 to 6');
  await expect(chat.sessionButtons).toHaveText(['Stop this one', 'Plan a trip to Paris']);
  await chat.sessionButtons.filter({ hasText: 'Plan a trip to Paris' }).click();
  await expect(chat.userMessages).toHaveText(['Plan a trip to Paris']);
  const after = await storage(page);
  expect(JSON.parse(after['confab:meta']).schema).toBe(6);
  // The backup is dropped once the migrated store was read back.
  expect(Object.keys(after).filter((k) => k.startsWith('confab:backup:'))).toEqual([]);
  // It keeps working. The fixture's conversations are a year old, so they
  // have expired: a message starts a new one and the old stays readable.
  await chatOnce(chat, 'And Lyon?');
  await page.reload();
  await expect(chat.sessionButtons.first()).toHaveText('And Lyon?');
  await expect(chat.userMessages).toHaveText(['And Lyon?']);
  await chat.sessionButtons.filter({ hasText: 'Plan a trip to Paris' }).click();
  await expect(chat.userMessages).toHaveText(['Plan a trip to Paris']);
  await expect(chat.replies).toHaveCount(1);
});

test('a store of format 2 is packed in place: the same conversations in a fraction of the space', async ({ chat, page }) => {
  const v2: Record<string, string> = JSON.parse(fs.readFileSync(path.join(fixtures, 'store-v2.json'), 'utf8'));
  await clearStore(page);
  await page.evaluate((entries) => {
    for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
  }, v2);
  await page.reload();
  await expect(page.locator('.notice')).toContainText('upgraded from storage format 2 to 6');
  await expect(chat.sessionButtons).toHaveCount(2);
  await chat.sessionButtons.nth(1).click();
  await expect(chat.userMessages).toHaveCount(2);
  const raw = await storage(page);
  const bodies = Object.keys(v2).filter((k) => k.startsWith('confab:session:') || k.startsWith('confab:conversation:'));
  expect(bodies).toHaveLength(4);
  for (const key of bodies) expect(raw[key].startsWith('~z1'), key).toBe(true);
  const size = (entries: Record<string, string>, keys: string[]) => keys.reduce((n, k) => n + k.length + entries[k].length, 0);
  expect(size(raw, bodies) * 3).toBeLessThan(size(v2, bodies));
  // Chromium's own zlib reads back exactly the text that was stored before.
  const unpacked = await unpackedStorage(page);
  for (const key of bodies) expect(JSON.parse(unpacked[key]), key).toEqual(JSON.parse(v2[key]));
  expect(raw['other-app:key']).toBe('not ours');
});

test.describe('two tabs', () => {
  test.use({ tokenDelayMs: 30 });

  test('sending at the same time in the same conversation and in another loses no message', async ({ chat, page, context, server }) => {
    await chatOnce(chat, 'Shared start');
    const other = new ChatPage(await context.newPage());
    await other.goto(server.url);
    await expect(other.userMessages).toHaveText(['Shared start']);

    // Both tabs answer in the same conversation at once.
    await Promise.all([chat.send('From tab A'), other.send('From tab B')]);
    await Promise.all([chat.lastReplyDone(), other.lastReplyDone()]);

    // And in two different conversations at once.
    await other.page.getByRole('button', { name: 'New chat' }).click();
    await Promise.all([chat.send('A again'), other.send('B in its own chat')]);
    await Promise.all([chat.lastReplyDone(), other.lastReplyDone()]);

    for (const tab of [chat, other]) {
      await tab.page.reload();
      await expect(tab.sessionButtons).toHaveCount(2);
    }
    const shared = await unpackedStorage(page);
    const bodies = sessionKeys(shared).map((k) => JSON.parse(shared[k]));
    const texts = (s: { events: { content?: { parts?: { text?: string }[] }; author: string }[] }) =>
      s.events.filter((e) => e.author === 'user').map((e) => e.content?.parts?.[0]?.text);
    const first = bodies.find((b) => texts(b).includes('Shared start'))!;
    const second = bodies.find((b) => texts(b).includes('B in its own chat'))!;
    expect(texts(first).sort()).toEqual(['A again', 'From tab A', 'From tab B', 'Shared start'].sort());
    expect(texts(second)).toEqual(['B in its own chat']);
    // Every user message has its reply, and no event is there twice.
    expect(first.events).toHaveLength(8);
    expect(new Set(first.events.map((e: { id: string }) => e.id)).size).toBe(8);
    expect(second.events).toHaveLength(2);

    // Both tabs show the same shared conversation after the reload.
    await chat.sessionButtons.filter({ hasText: 'Shared start' }).click();
    await other.sessionButtons.filter({ hasText: 'Shared start' }).click();
    await expect(chat.userMessages).toHaveCount(4);
    await expect(other.userMessages).toHaveCount(4);
  });

  test("another tab's reply is re-read on its own: the listening tab reads its conversation's keys, not every conversation's", async ({ chat, page, context, server }) => {
    await chatOnce(chat, 'An older one');
    // 300 more conversations, as index entries (one key each).
    await page.evaluate(() => {
      const now = Date.now() / 1000;
      for (let i = 0; i < 300; i++) {
        const id = `seeded-${String(i).padStart(3, '0')}`;
        const summary = { id, appName: 'confab', userId: 'local', title: `seeded ${i}`, lastUpdateTime: now - 1000 - i, eventCount: 2 };
        localStorage.setItem(`confab:entry:confab:local:${id}`, JSON.stringify({ listed: summary }));
      }
    });
    const other = new ChatPage(await context.newPage());
    // Counts the listening tab's localStorage reads.
    await other.page.addInitScript(() => {
      const w = window as unknown as { __reads: number };
      w.__reads = 0;
      const getItem = Storage.prototype.getItem;
      Storage.prototype.getItem = function (key: string) {
        w.__reads += 1;
        return getItem.call(this, key);
      };
    });
    await other.goto(server.url);
    await expect(other.sessionButtons.first()).toHaveText('An older one');
    await other.page.waitForTimeout(500);
    const reads = () => other.page.evaluate(() => (window as unknown as { __reads: number }).__reads);
    const before = await reads();

    await page.getByRole('button', { name: 'New chat' }).click();
    await chatOnce(chat, 'Written in the first tab');
    // The listening tab lists it first, and still shows what it had open.
    await expect(other.sessionButtons.first()).toHaveText('Written in the first tab');
    await expect(other.sessionButtons.nth(1)).toHaveText('An older one');
    await expect(other.userMessages).toHaveText(['An older one']);
    await other.page.waitForTimeout(500);
    const spent = (await reads()) - before;
    console.log(`the listening tab read ${spent} keys for another tab's reply, with 302 conversations stored`);
    // One conversation's entry and status per burst of writes (a reply is
    // a few bursts), where re-listing would read every one of the 302.
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(60);

    // Another tab's rename is shown too, and the open conversation follows.
    await other.sessionButtons.first().click();
    await expect(other.userMessages).toHaveText(['Written in the first tab']);
    await chatOnce(chat, 'And a second message');
    await expect(other.userMessages).toHaveText(['Written in the first tab', 'And a second message']);
  });

  test('a conversation deleted in one tab does not come back from the other', async ({ chat, page, context, server }) => {
    await chatOnce(chat, 'Delete me');
    await page.getByRole('button', { name: 'New chat' }).click();
    await chatOnce(chat, 'Keep me');
    const other = new ChatPage(await context.newPage());
    await other.goto(server.url);
    await expect(other.sessionButtons).toHaveCount(2);

    await chat.sessionButtons.filter({ hasText: 'Delete me' }).click();
    await page.getByRole('button', { name: 'Details' }).click();
    await page.getByRole('button', { name: 'Delete conversation' }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(chat.sessionButtons).toHaveText(['Keep me']);

    // The other tab still had it on screen; it sees the deletion, and its
    // next write does not bring it back.
    await expect(other.sessionButtons).toHaveText(['Keep me']);
    await other.sessionButtons.first().click();
    await chatOnce(other, 'Another message from the other tab');
    for (const tab of [chat, other]) {
      await tab.page.reload();
      await expect(tab.sessionButtons).toHaveText(['Keep me']);
    }
    const all = await storage(page);
    expect(Object.values(all).some((v) => v.includes('Delete me') && !v.includes('tombstone'))).toBe(false);
  });
});

test('export everything, import it back without duplicates; a foreign file changes nothing; a ChatGPT export moves in', async ({ chat, page }, testInfo) => {
  await chatOnce(chat, 'Worth keeping');
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  await expect(settings.locator('[data-fact="persisted"]')).toContainText('Persistent storage:');

  const download = page.waitForEvent('download');
  await settings.getByRole('button', { name: 'Back up everything' }).click();
  const file = testInfo.outputPath('backup.json');
  await (await download).saveAs(file);
  const backup = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(backup.format).toBeTruthy();
  expect(JSON.stringify(backup)).toContain('Worth keeping');

  // Importing what is already here adds nothing.
  const picker = settings.locator('input[type="file"]');
  await picker.setInputFiles(file);
  await expect(settings.locator('.import-result')).toContainText('Imported 0 new conversation(s); 1 already here were merged (0 new message(s)');

  // A file that is not an export is refused, and nothing changes.
  const before = await storage(page);
  const foreign = testInfo.outputPath('foreign.json');
  fs.writeFileSync(foreign, JSON.stringify({ hello: 'world' }));
  await picker.setInputFiles(foreign);
  await expect(settings.locator('.import-result')).toContainText('neither a Confab export nor a ChatGPT conversations.json; nothing was imported');
  expect(await storage(page)).toEqual(before);

  // ChatGPT's conversations.json.
  await picker.setInputFiles(path.join(fixtures, 'chatgpt-conversations.json'));
  await expect(settings.locator('.import-result')).toContainText(/Imported [1-9]\d* new conversation/);
  await settings.getByRole('button', { name: 'Cancel' }).click();
  await expect(chat.sessionButtons.filter({ hasText: 'Paris in March' })).toHaveCount(1);

  // One conversation, from its details: JSON and Markdown.
  await chat.sessionButtons.filter({ hasText: 'Worth keeping' }).click();
  await page.getByRole('button', { name: 'Details' }).click();
  const saved = (button: string, name: string) => downloadText(page, button, testInfo.outputPath(name));
  const one = JSON.parse(await saved('Export JSON', 'one.json'));
  expect(JSON.stringify(one)).toContain('Worth keeping');
  expect(JSON.stringify(one)).not.toContain('Paris in March');
  const markdown = await saved('Export Markdown', 'one.md');
  expect(markdown).toMatch(/^# Worth keeping\n/);
  expect(markdown).toContain('**You:**\n\nWorth keeping');
  expect(markdown).toContain('You said: "Worth keeping"');

  // Delete the conversation, then restore it from the backup, after a reload.
  await page.getByRole('button', { name: 'Delete conversation' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(chat.sessionButtons.filter({ hasText: 'Worth keeping' })).toHaveCount(0);
  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog', { name: 'Settings' }).locator('input[type="file"]').setInputFiles(file);
  await expect(page.locator('.import-result')).toContainText('Imported 1 new conversation(s)');
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Cancel' }).click();
  await page.reload();
  await chat.sessionButtons.filter({ hasText: 'Worth keeping' }).click();
  await expect(chat.userMessages).toHaveText(['Worth keeping']);
  await expect(chat.replies).toHaveCount(1);
});
