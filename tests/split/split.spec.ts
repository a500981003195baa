// The split release build (scripts/build-split.sh): the first load leaves
// the rarely opened parts out, each part's chunk is fetched once, when the
// part is first shown, and a chunk that cannot be fetched is said so,
// leaves the page working, and is fetched again when the part reopens.
import { test, expect, ChatPage } from '../e2e/fixtures';
import type { Page } from '@playwright/test';

const chunk = /\/(split|chunk)_[^/]*\.wasm$/;

/**
 * The parts' own chunks `page` has requested so far, by name, in order
 * (chunk_N files, code two parts share, come along with either).
 */
function chunkRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/split_/.test(path)) seen.push(path.slice(1));
  });
  return seen;
}

test('each part is fetched once, on first use, and works', async ({ server, page }) => {
  const fetched = chunkRequests(page);
  const chat = new ChatPage(page);
  await chat.goto(server.url);
  await chat.send('Hello');
  await chat.lastReplyDone();
  expect(fetched).toEqual([]);

  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  expect(fetched).toEqual([expect.stringMatching(/^split_data_tools-/)]);
  await settings.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  await settings.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Details' }).click();
  const details = page.getByRole('region', { name: 'Conversation details' });
  await expect(details.getByRole('button', { name: 'Export Markdown' })).toBeVisible();
  expect(fetched).toEqual([
    expect.stringMatching(/^split_data_tools-/),
    expect.stringMatching(/^split_details-/),
  ]);
});

test('a chunk that cannot be fetched is said so, the page keeps working, and reopening fetches it', async ({ server, page }) => {
  const fetched = chunkRequests(page);
  const chat = new ChatPage(page);
  await chat.goto(server.url);
  await page.route(chunk, (route) => route.abort('internetdisconnected'));
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.getByRole('alert')).toContainText('could not be loaded');
  await settings.getByRole('button', { name: 'Cancel' }).click();

  // Still alive: a message goes out and its reply comes back.
  await chat.send('Still here?');
  await chat.lastReplyDone();

  await page.unroute(chunk);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  await expect(settings.getByRole('alert')).toHaveCount(0);
  expect(fetched.filter((name) => name.startsWith('split_data_tools-'))).toHaveLength(2);
});
