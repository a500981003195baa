// Attachments end to end, against real peers: the seed's data-analysis flow with a real
// ADK api_server (tests/adk_agents/analysis_agent reads the CSV from the
// message's inline data, answers with its statistics, a code-execution
// event and a chart it draws), an image through a real LiteLLM proxy to an
// OpenAI-compatible server that journals what it received, a model that
// refuses images, the offline model quoting what arrived, and a stored
// conversation of an older format whose inline images move to IndexedDB.
import { agentTest, test, expect, LiteLLM, Llmock, adkApps, useAgent, chooseModel } from './fixtures';
import { scriptedTest } from './scripted-upstream';
import { clearStore, unpackedStorage } from './stored';
import type { Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

/** A folder for one test's files (each test removes its own). */
function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'confab-attach-'));
}

/** Attaches `files` with the Attach button's file chooser, as a user does. */
async function attach(page: Page, files: string[]): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.locator('[data-role="attach"]').click();
  await (await chooser).setFiles(files);
  for (const file of files) {
    await expect(page.locator(`.composer [data-role="attachment"][data-name="${path.basename(file)}"]`)).toBeVisible();
  }
}

/** A real PNG of `width` x `height`, drawn by the page's canvas. */
async function pngFile(page: Page, dir: string, name: string, width = 64, height = 48): Promise<string> {
  const base64 = await page.evaluate(
    ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#2a7';
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#fff';
      g.fillRect(w / 4, h / 4, w / 2, h / 2);
      return canvas.toDataURL('image/png').split(',')[1];
    },
    [width, height],
  );
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.from(base64, 'base64'));
  return file;
}

/** Blob keys in the page's IndexedDB store of attachments. */
async function storedBlobs(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open('confab-blobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const request = db.transaction('meta').objectStore('meta').getAllKeys();
          request.onsuccess = () => {
            resolve(request.result.map(String));
            db.close();
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

/** Every localStorage value, joined: what a test checks the bytes are not in. */
async function localStorageText(page: Page): Promise<string> {
  return page.evaluate(() => Object.keys(localStorage).map((k) => localStorage.getItem(k)).join('\n'));
}

// A semicolon-separated CSV with a quoted field holding the separator's
// cousin, the way a European spreadsheet exports it.
const SALES_CSV = 'region;units;price\nNorth;12;2.5\nSouth;30;1.5\n"East; upper";7;4\nWest;51;3\n';

agentTest('the seed flow: attach a CSV, get its statistics and a chart; reload; restart the server and ask again', async ({ chat, page, adk }) => {
  const dir = scratch();
  const csv = path.join(dir, 'sales.csv');
  fs.writeFileSync(csv, SALES_CSV);
  await useAgent(page, adkApps.analysis);
  await attach(page, [csv]);
  // The preview is parsed on the client: header, rows and the counts.
  const pending = page.locator('.composer [data-role="attachment"][data-name="sales.csv"]');
  await expect(pending).toHaveAttribute('data-kind', 'text');
  await chat.send('Summarise the numbers');
  const userChip = page.locator('[data-role="user"] [data-role="attachment"][data-name="sales.csv"]');
  await expect(userChip).toHaveAttribute('data-state', 'ready');
  const table = page.locator('[data-role="user"] [data-role="attachment-table"]');
  await expect(table).toContainText('4 rows');
  await expect(table).toContainText('East; upper');

  await chat.lastReplyDone();
  // Real statistics of the columns (units: 12, 30, 7, 51; price: 2.5, 1.5, 4, 3).
  const statistics = page.locator('[data-role="assistant"]').filter({ hasText: 'Statistics of sales.csv' });
  await expect(statistics).toContainText('Statistics of sales.csv (4 rows, 3 columns)');
  const row = (column: string) => statistics.locator('tr').filter({ has: page.locator('td', { hasText: new RegExp(`^${column}$`) }) }).locator('td');
  await expect(row('units')).toHaveText(['units', '4', '25', '7', '51']);
  await expect(row('price')).toHaveText(['price', '4', '2.75', '1.5', '4']);
  await expect(page.locator('[data-part="executable-code"]').last()).toBeVisible();
  await expect(page.locator('[data-part="code-execution-result"]').last()).toContainText('51');
  // The chart: an image the agent drew, stored as a blob, shown as a chip.
  const chart = page.locator('[data-role="assistant"] [data-role="attachment"][data-kind="image"]').first();
  await expect(chart).toHaveAttribute('data-state', 'ready');
  await expect.poll(() => chart.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  // It is also the artifact the agent saved (fetched from the server's
  // artifact route: the same bytes): one chip, marked, that downloads the PNG.
  const artifact = page.locator('[data-role="assistant"] [data-role="attachment"][data-name="chart.png"]');
  await expect(artifact).toHaveCount(1);
  await expect(artifact).toHaveAttribute('data-origin', 'artifact');
  await expect(artifact).toContainText('saved by the agent');
  const download = page.waitForEvent('download');
  await artifact.getByRole('button', { name: 'Download chart.png' }).click();
  const saved = fs.readFileSync((await (await download).path())!);
  expect([...saved.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // The bytes are in IndexedDB, not in localStorage.
  expect((await storedBlobs(page)).length).toBeGreaterThanOrEqual(2);
  const csvBase64 = Buffer.from(SALES_CSV).toString('base64');
  expect(await localStorageText(page)).not.toContain(csvBase64.slice(0, 40));

  await page.reload();
  await expect(page.locator('[data-role="user"] [data-role="attachment"][data-name="sales.csv"]')).toHaveAttribute('data-state', 'ready');
  const chartAgain = page.locator('[data-role="assistant"] [data-role="attachment"][data-kind="image"]').first();
  await expect.poll(() => chartAgain.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);

  // The server forgets every session; Confab restores this one with its
  // attachments, so a question without a file still finds the data.
  await adk.restart();
  // This time the artifact cannot be fetched: the reply comes all the
  // same, its inline chart shown, the artifact named as unavailable.
  await page.route('**/artifacts/**', (route) => route.fulfill({ status: 500, body: 'gone' }));
  await chat.send('And again, please');
  await chat.lastReplyDone();
  await expect(page.locator('[data-role="assistant"]').filter({ hasText: 'Statistics of sales.csv' })).toHaveCount(2);
  const charts = page.locator('[data-role="assistant"] [data-role="attachment"][data-name="chart.png"]');
  await expect(charts).toHaveCount(3);
  await expect(charts.nth(1)).toHaveAttribute('data-state', 'ready');
  await expect(charts.nth(1)).not.toHaveAttribute('data-origin', 'artifact');
  await expect(charts.nth(2)).toHaveAttribute('data-origin', 'artifact');
  await expect(charts.nth(2)).toHaveAttribute('data-state', 'unavailable');
  await expect(charts.nth(2)).toContainText('attachment unavailable');
  fs.rmSync(dir, { recursive: true, force: true });
});

test.describe('an image through LiteLLM', () => {
  const llmock = new Llmock();
  // Made once llmock has its port: LiteLLM forwards the model to it.
  let litellm: LiteLLM;
  test.beforeAll(async () => {
    await llmock.start();
    litellm = new LiteLLM({ forward: { model: 'vision-gpt', apiBase: llmock.v1 } });
    await litellm.start();
  });
  test.afterAll(async () => {
    await litellm?.stop();
    await llmock.stop();
  });
  test.use({
    upstreamUrl: async ({}, use) => use(litellm.v1),
    upstreamKey: async ({}, use) => use(litellm.masterKey),
  });

  test('the image reaches the model as an image_url data URL, named in a text part', async ({ chat, page }) => {
    const dir = scratch();
    const png = await pngFile(page, dir, 'diagram.png');
    await chooseModel(page, 'vision-gpt');
    await attach(page, [png]);
    await llmock.reset();
    await chat.send('What is in this picture?');
    await chat.lastReplyDone();
    const received = (await llmock.requests()).filter((r) => r.path.endsWith('/chat/completions'));
    expect(received.length).toBe(1);
    const content = (received[0].body!.messages!.at(-1) as unknown as { content: unknown }).content as {
      type: string;
      text?: string;
      image_url?: { url: string };
    }[];
    expect(content[0]).toEqual({ type: 'text', text: 'What is in this picture?' });
    expect(content.some((p) => p.type === 'text' && p.text === '[Attached image: diagram.png]')).toBe(true);
    const image = content.find((p) => p.type === 'image_url');
    expect(image?.image_url?.url).toMatch(/^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+=*$/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

scriptedTest('a model that refuses images: a plain message naming the cause, and the message kept', async ({ chat, page, upstream }) => {
  const dir = scratch();
  const png = await pngFile(page, dir, 'photo.png');
  upstream.script = [
    {
      kind: 'error',
      status: 400,
      message: 'Invalid content type. image_url is only supported by certain models.',
    },
  ];
  await chooseModel(page, 'scripted-model');
  await attach(page, [png]);
  await chat.send('Describe it');
  const reply = await chat.lastReplyDone('error');
  await expect(reply).toContainText('does not accept images');
  await expect(reply).toContainText('choose another model');
  // The upstream's 400 did not say which model: the reply names the one asked.
  expect(upstream.received.at(-1)?.model).toBe('scripted-model');
  await expect(reply).toContainText('The model scripted-model does not accept images');
  await expect(chat.userMessages.last()).toHaveText('Describe it');
  await expect(page.locator('[data-role="user"] [data-role="attachment"][data-name="photo.png"]')).toHaveAttribute('data-state', 'ready');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the offline model quotes the name, type and size of each attachment', async ({ chat, page }) => {
  const dir = scratch();
  const notes = path.join(dir, 'notes.txt');
  fs.writeFileSync(notes, 'remember the milk\n');
  const png = await pngFile(page, dir, 'sketch.png', 32, 32);
  await attach(page, [notes, png]);
  await chat.send('Did they arrive?');
  const reply = await chat.lastReplyDone();
  await expect(reply).toContainText('notes.txt (text/plain, 18 bytes)');
  await expect(reply).toContainText(/sketch\.png \(image\/(png|jpeg|webp), [\d,]+ bytes\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});


test('a store of format 3 with inline images: the bytes move to IndexedDB, the images still show', async ({ chat, page }) => {
  const fixtures = path.resolve(__dirname, '../../core/tests/fixtures');
  const v3: Record<string, string> = JSON.parse(fs.readFileSync(path.join(fixtures, 'store-v3.json'), 'utf8'));
  // The conversation with the images is the open one: its chips read
  // their blobs while the startup drain is still moving them in, and must
  // show them once it has, without a reload.
  const userKey = 'confab:user:confab:local';
  const record = JSON.parse(v3[userKey]);
  const withImages = JSON.parse(v3['confab:index']).sessions.find((s: { title: string }) => s.title === '#0.0 storage token quota').id;
  v3[userKey] = JSON.stringify({ ...record, current: withImages });
  await clearStore(page);
  await page.evaluate((entries) => {
    for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
  }, v3);
  // The fixture's agent replies hold their images inline, as format 3 did.
  expect(Object.values(await unpackedStorage(page)).join('\n')).toContain('inlineData');
  await page.reload();
  await expect(page.locator('.notice')).toContainText('upgraded from storage format 3 to 6');
  const images = page.locator('[data-role="assistant"] [data-role="attachment"][data-kind="image"]');
  await expect(images.first()).toHaveAttribute('data-state', 'ready');
  for (const image of await images.all()) await expect(image).toHaveAttribute('data-state', 'ready');
  await chat.sessionButtons.filter({ hasText: '#0.0 storage token quota' }).click();
  await expect(images.first()).toHaveAttribute('data-state', 'ready');
  await expect.poll(() => images.first().locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // Every pending key was drained into IndexedDB; the bytes left localStorage.
  await expect.poll(async () => (await page.evaluate(() => Object.keys(localStorage))).filter((k) => k.startsWith('confab:blob-pending:'))).toEqual([]);
  expect((await storedBlobs(page)).length).toBeGreaterThanOrEqual(1);
  // Unpacked, no stored value holds a PNG's base64 any more; the one inline
  // part left is the fixture's data that is not base64 (kept as it was).
  const values = Object.values(await unpackedStorage(page)).join('\n');
  expect(values).not.toContain('iVBORw0KGgo');
  expect(values.match(/"inlineData"/g)).toHaveLength(1);
  expect(values).toContain('"data":"not base64 at all!"');
  expect(values).toContain('"attachment":{');
});

test('deleting a conversation frees the files no other conversation uses, once the undo window has passed', async ({ chat, page }) => {
  test.setTimeout(60_000);
  const dir = scratch();
  const shared = path.join(dir, 'shared.csv');
  const own = path.join(dir, 'only-here.txt');
  fs.writeFileSync(shared, 'a,b\n1,2\n');
  fs.writeFileSync(own, 'only in the first conversation\n');
  const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  await attach(page, [shared, own]);
  await chat.send('first: both files');
  await chat.lastReplyDone();
  await page.getByRole('button', { name: 'New chat' }).click();
  await attach(page, [shared]);
  await chat.send('second: the shared one');
  await chat.lastReplyDone();
  expect((await storedBlobs(page)).sort()).toEqual([sha(shared), sha(own)].sort());
  // Stored an hour ago: past the grace period that protects a file another
  // tab may be about to save a message with.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('confab-blobs');
        open.onsuccess = () => {
          const tx = open.result.transaction('meta', 'readwrite');
          const meta = tx.objectStore('meta');
          const cursor = meta.openCursor();
          cursor.onsuccess = () => {
            const at = cursor.result;
            if (!at) return;
            at.update({ ...at.value, storedAt: at.value.storedAt - 3600 });
            at.continue();
          };
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  const entry = page.locator('.sidebar li.entry').filter({ has: page.locator('.session', { hasText: 'first: both files' }) });
  await entry.getByRole('button', { name: 'Options for “first: both files”' }).click();
  await entry.getByRole('button', { name: 'Delete', exact: true }).click();
  // Nothing is freed inside the undo window...
  expect((await storedBlobs(page)).length).toBe(2);
  // ...and after it, only the file the other conversation does not use.
  await expect(page.locator('.toast')).toHaveCount(0, { timeout: 15_000 });
  await expect.poll(() => storedBlobs(page), { timeout: 10_000 }).toEqual([sha(shared)]);
  await expect(page.locator('[data-role="user"] [data-role="attachment"][data-name="shared.csv"]')).toHaveAttribute('data-state', 'ready');
  fs.rmSync(dir, { recursive: true, force: true });
});
