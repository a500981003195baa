// Attachments in real Chromium against real IndexedDB: taken by the file
// chooser, a paste and a drop; images downscaled; bytes kept out of
// localStorage; a missing blob; a full quota; a second tab.
import { test, expect, type ChatPage } from './fixtures';
import type { Page } from '@playwright/test';
import { storage } from './stored';

const CSV = 'city,temp\nParis,"12,5"\nLyon,14\nNice,18\n';

/** A PNG of random pixels made in the page (noise does not compress). */
async function noisyPng(page: Page, width: number, height: number): Promise<number[]> {
  const base64 = await page.evaluate(
    async ([w, h]) => {
      const canvas = new OffscreenCanvas(w, h);
      const context = canvas.getContext('2d')!;
      const image = context.createImageData(w, h);
      // Random bytes (getRandomValues fills 64 KiB at a time), opaque.
      for (let i = 0; i < image.data.length; i += 65536) {
        crypto.getRandomValues(image.data.subarray(i, Math.min(i + 65536, image.data.length)));
      }
      for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
      context.putImageData(image, 0, 0);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      // As base64: a 10 MB array of numbers is slow to hand over.
      return new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result).split(',')[1]);
        reader.readAsDataURL(blob);
      });
    },
    [width, height],
  );
  return Array.from(Buffer.from(base64, 'base64'));
}

/** Attaches files through the (hidden) file input behind Attach. */
async function choose(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  await page.locator('input[name="attach-files"]').setInputFiles(files);
}

/** All of a download's bytes, as text. */
async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function chip(page: Page, name: string) {
  return page.locator(`[data-role="attachment"][data-name="${name}"]`);
}

/** What IndexedDB's `meta` store holds: `[sha256, size, mimeType][]`. */
async function storedMeta(page: Page): Promise<[string, number, string][]> {
  return page.evaluate(
    () =>
      new Promise<[string, number, string][]>((resolve, reject) => {
        const open = indexedDB.open('confab-blobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const store = db.transaction('meta').objectStore('meta');
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => {
            resolve(keys.result.map((k, i) => [String(k), values.result[i].size, values.result[i].mimeType]));
            db.close();
          };
        };
      }),
  );
}

/** Every character of the conversation store (keys and values): localStorage
 * and, from format 6, the bodies and records it keeps in IndexedDB. */
async function storedChars(page: Page): Promise<number> {
  return Object.entries(await storage(page)).reduce((total, [key, value]) => total + key.length + value.length, 0);
}

/** Holds back the attach part's code until the returned function is called. */
async function holdAttachPart(page: Page): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.context().route(/\/split_attach-/, async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

async function sendAndWait(chat: ChatPage, text: string) {
  const replies = await chat.replies.count();
  await chat.box.fill(text);
  await chat.box.press('Enter');
  await expect(chat.replies).toHaveCount(replies + 1);
  await chat.lastReplyDone();
}

test('a CSV attached by the chooser shows its preview, is sent and stored once in IndexedDB', async ({ page, chat }) => {
  await expect(page.locator('[data-role="attach"]')).toHaveAccessibleName('Attach files');
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  const pending = chip(page, 'weather.csv');
  await expect(pending).toHaveAttribute('data-state', 'ready');
  await expect(pending).toHaveAttribute('data-kind', 'text');
  await expect(pending.locator('[data-role="attachment-table"] caption')).toHaveText('3 rows × 2 columns');
  await expect(pending.locator('td').first()).toHaveText('Paris');

  await sendAndWait(chat, 'What is the mean temperature?');
  const sent = page.locator('[data-role="user"]').last().locator('[data-role="attachment"]');
  await expect(sent).toHaveAttribute('data-name', 'weather.csv');
  await expect(sent).toHaveAttribute('data-state', 'ready');
  // The composer is empty again.
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveCount(0);

  // Attached again in another message: still one blob.
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await sendAndWait(chat, 'And the max?');
  expect(await storedMeta(page)).toHaveLength(1);

  // Download gives back the original bytes.
  const download = page.waitForEvent('download');
  await sent.getByRole('button', { name: 'Download weather.csv' }).click();
  const file = await (await download).path();
  expect((await import('node:fs')).readFileSync(file!, 'utf8')).toBe(CSV);
});

test('a file of another kind is refused by name and nothing changes', async ({ page, chat }) => {
  await chat.box.fill('typed text');
  await choose(page, [{ name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') }]);
  await expect(page.locator('[data-notice="attach"]')).toContainText('Cannot attach setup.exe');
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveCount(0);
  await expect(chat.box).toHaveValue('typed text');
});

test('a pasted screenshot and a dropped file become chips; an image opens in the lightbox', async ({ page, chat }) => {
  const png = await noisyPng(page, 64, 48);
  await page.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }));
    const textarea = document.querySelector('textarea[aria-label="Message"]')!;
    textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, png);
  const pasted = chip(page, 'screenshot.png');
  await expect(pasted).toHaveAttribute('data-kind', 'image');
  await expect(pasted.locator('img')).toBeVisible();

  await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['# Notes\n'], 'notes.md', { type: 'text/markdown' }));
    const target = document.querySelector('main.chat')!;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  await expect(chip(page, 'notes.md')).toHaveAttribute('data-state', 'ready');

  // Removing one leaves the other.
  await page.getByRole('button', { name: 'Remove notes.md' }).click();
  await expect(chip(page, 'notes.md')).toHaveCount(0);

  // Sent with no text at all.
  await chat.box.press('Enter');
  await chat.lastReplyDone();
  const sent = page.locator('[data-role="user"]').last().locator('[data-role="attachment"]');
  await expect(sent).toHaveAttribute('data-state', 'ready');
  await sent.getByRole('button', { name: 'Open screenshot.png larger' }).click();
  const lightbox = page.locator('[data-role="lightbox"]');
  await expect(lightbox).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(lightbox).toBeHidden();
});

test('a 10 MB image is downscaled to at most 2048 px and under 1.5 MB before it is stored', async ({ page, chat }) => {
  test.setTimeout(120_000);
  const png = Buffer.from(await noisyPng(page, 3000, 1150));
  expect(png.length).toBeGreaterThan(9_000_000);
  const started = Date.now();
  await choose(page, [{ name: 'photo.png', mimeType: 'image/png', buffer: png }]);
  const pending = page.locator('.composer [data-role="attachment"]');
  await expect(pending).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
  console.log(`downscaled in ${Date.now() - started} ms`);
  // Stored when sent (the reply is the proxy's concern: see the report).
  await chat.box.fill('What is in this photo?');
  await chat.box.press('Enter');
  await expect(page.locator('[data-role="user"] [data-role="attachment"]')).toHaveAttribute('data-state', 'ready');
  const [[sha, size, mime]] = await storedMeta(page);
  expect(size).toBeLessThan(1.5 * 1024 * 1024);
  expect(mime).not.toBe('image/png');
  const side = await page.evaluate(
    (sha) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('confab-blobs');
        open.onsuccess = () => {
          const get = open.result.transaction('blobs').objectStore('blobs').get(sha);
          get.onsuccess = async () => {
            const bitmap = await createImageBitmap(get.result as Blob);
            open.result.close();
            resolve(Math.max(bitmap.width, bitmap.height));
          };
          get.onerror = () => reject(get.error);
        };
      }),
    sha,
  );
  expect(side).toBeLessThanOrEqual(2048);
});

test('the conversation store grows by under 2 KB for a 1 MB image', async ({ page, chat }) => {
  await sendAndWait(chat, 'Hello there');
  const png = Buffer.from(await noisyPng(page, 600, 600));
  expect(png.length).toBeGreaterThan(1_000_000);
  // The same message without and with the image, each in a new chat.
  await page.getByRole('button', { name: 'New chat' }).first().click();
  let before = await storedChars(page);
  await sendAndWait(chat, 'Describe this');
  const withoutImage = (await storedChars(page)) - before;
  await page.getByRole('button', { name: 'New chat' }).first().click();
  before = await storedChars(page);
  await choose(page, [{ name: 'one-mb.png', mimeType: 'image/png', buffer: png }]);
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveAttribute('data-state', 'ready');
  await sendAndWait(chat, 'Describe this');
  const withImage = (await storedChars(page)) - before;
  console.log(`stored conversations: +${withoutImage} chars without the image, +${withImage} with it`);
  expect(withImage - withoutImage).toBeLessThan(2048);
});

test('a missing blob shows "attachment unavailable" and the conversation goes on', async ({ page, chat }) => {
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await sendAndWait(chat, 'Look at this');
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const open = indexedDB.open('confab-blobs');
        open.onsuccess = () => {
          const tx = open.result.transaction(['blobs', 'meta'], 'readwrite');
          tx.objectStore('blobs').clear();
          tx.objectStore('meta').clear();
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
        };
      }),
  );
  await page.reload();
  const sent = chip(page, 'weather.csv');
  await expect(sent).toHaveAttribute('data-state', 'unavailable');
  await expect(sent).toContainText('attachment unavailable');
  // The preview came with the reference.
  await expect(sent.locator('[data-role="attachment-table"]')).toBeVisible();
  await sendAndWait(chat, 'Still there?');
  // A backup without its bytes says so, and carries the reference.
  await page.getByRole('button', { name: 'Settings' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Back up everything' }).click();
  const backup = JSON.parse(await streamText(await (await download).createReadStream()));
  expect(Object.keys(backup.attachments ?? {})).toHaveLength(0);
  expect(JSON.stringify(backup)).toContain('weather.csv');
  await expect(page.locator('[data-notice="export-incomplete"]')).toContainText(
    '1 attachment was unavailable and is not in the backup',
  );
});

test('a text file too large for the model is refused with its size and the limit; the typed text stays', async ({ page, chat }) => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await settings.getByLabel('Context window (tokens)').fill('4096');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden();
  await chat.box.fill('Summarise the log');
  // 200 KB of text: about 51,000 tokens, for a window of 4096.
  const log = Buffer.from('2024-05-01 12:00:00 INFO request served in 12 ms\n'.repeat(4_200));
  await choose(page, [{ name: 'server.log.txt', mimeType: 'text/plain', buffer: log }]);
  const notice = page.locator('[data-notice="attach"]');
  await expect(notice).toContainText('server.log.txt (');
  await expect(notice).toContainText('KB)');
  await expect(notice).toContainText('reads at most 4096');
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveCount(0);
  await expect(chat.box).toHaveValue('Summarise the log');
  expect(await storedMeta(page)).toHaveLength(0);
  // A file that fits is taken, and the message goes with it.
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await expect(chip(page, 'weather.csv')).toHaveAttribute('data-state', 'ready');
  await sendAndWait(chat, 'Summarise the log');
  await expect(chat.userMessages.last()).toContainText('Summarise the log');
});

test('a full quota keeps the message unsent, with its text and chips, and opens the banner', async ({ page, chat, server }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(server.url).origin, quotaSize: 200_000 });
  const png = Buffer.from(await noisyPng(page, 600, 600));
  await choose(page, [{ name: 'big.png', mimeType: 'image/png', buffer: png }]);
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveAttribute('data-state', 'ready');
  await chat.box.fill('Will this fit?');
  await chat.box.press('Enter');
  const banner = page.locator('.storage-full');
  await expect(banner).toBeVisible();
  await expect(banner.locator('[data-fact="attachments-full"]')).toContainText('attachments already use');
  await expect(banner.getByRole('button', { name: 'Export all (backup)' })).toBeVisible();
  await expect(chat.userMessages).toHaveCount(0);
  await expect(chat.box).toHaveValue('Will this fit?');
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveCount(1);
  expect(await storedMeta(page)).toHaveLength(0);
});

test('Enter pressed while a file is still being read sends the message with it, once', async ({ page, chat }) => {
  // The file is still being read when Enter comes (as on a slow
  // connection, right after choosing).
  const release = await holdAttachPart(page);
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await expect(page.locator('.composer [role="status"]')).toContainText('Preparing files');
  await chat.box.fill('With the table');
  await chat.box.press('Enter');
  await chat.box.press('Enter');
  // Nothing went out without the file; the text waits in the box.
  await expect(page.locator('.composer [role="status"]')).toContainText('Preparing files');
  await expect(chat.userMessages).toHaveCount(0);
  await expect(chat.box).toHaveValue('With the table');
  release();
  await expect(chat.replies).toHaveCount(1);
  await chat.lastReplyDone();
  await expect(chat.userMessages).toHaveCount(1);
  await expect(chat.userMessages.first()).toContainText('With the table');
  await expect(chip(page, 'weather.csv')).toHaveCount(1);
  await expect(page.locator('[data-role="user"] [data-role="attachment"][data-name="weather.csv"]')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('.composer [data-role="attachment"]')).toHaveCount(0);
  await expect(chat.box).toHaveValue('');
});

test('a file that cannot be attached keeps a waiting message unsent, with its text', async ({ page, chat }) => {
  const release = await holdAttachPart(page);
  await choose(page, [{ name: 'program.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ not a document') }]);
  await chat.box.fill('Read this');
  await chat.box.press('Enter');
  release();
  await expect(page.locator('[data-notice="attach"]')).toContainText('program.exe');
  await expect(page.locator('.composer [role="status"]')).toHaveCount(0);
  await expect(chat.userMessages).toHaveCount(0);
  await expect(chat.box).toHaveValue('Read this');
});

test('a second tab sees the new attachment and its thumbnail', async ({ page, chat, server }) => {
  const other = await page.context().newPage();
  await other.goto(server.url);
  const png = await noisyPng(page, 80, 60);
  await choose(page, [{ name: 'chart.png', mimeType: 'image/png', buffer: Buffer.from(png) }]);
  await sendAndWait(chat, 'A chart');
  const entry = other.getByRole('navigation', { name: 'Conversations' }).locator('.session').first();
  await expect(entry).toContainText('A chart');
  await entry.click();
  const seen = chip(other, 'chart.png');
  await expect(seen).toHaveAttribute('data-state', 'ready');
  await expect(seen.locator('img')).toBeVisible();
});

test('a backup carries the attachments; importing it into a fresh browser restores them, twice adds nothing', async ({ page, chat, server, browser }, testInfo) => {
  await choose(page, [{ name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await sendAndWait(chat, 'Keep this table');
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.locator('[data-fact="attachments"]')).toContainText('Attachments: 1 file(s)');
  const download = page.waitForEvent('download');
  await settings.getByRole('button', { name: 'Back up everything' }).click();
  const file = testInfo.outputPath('backup.json');
  await (await download).saveAs(file);
  const backup = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8'));
  const blobs = Object.values(backup.attachments ?? {}) as { data: string }[];
  expect(blobs).toHaveLength(1);
  expect(Buffer.from(blobs[0].data, 'base64').toString('utf8')).toBe(CSV);

  // Another browser profile: nothing stored yet.
  const context = await browser.newContext();
  const fresh = await context.newPage();
  await fresh.goto(server.url);
  await fresh.getByRole('button', { name: 'Settings' }).click();
  const picker = fresh.getByRole('dialog', { name: 'Settings' }).locator('input[type="file"]');
  await picker.setInputFiles(file);
  await expect(fresh.locator('.import-result')).toContainText('Imported 1 new conversation(s)');
  await picker.setInputFiles(file);
  await expect(fresh.locator('.import-result')).toContainText('Imported 0 new conversation(s)');
  expect(await storedMeta(fresh)).toHaveLength(1);
  await fresh.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Cancel' }).click();
  await fresh.getByRole('navigation', { name: 'Conversations' }).locator('.session').filter({ hasText: 'Keep this table' }).click();
  await expect(chip(fresh, 'weather.csv')).toHaveAttribute('data-state', 'ready');
  await context.close();
});
