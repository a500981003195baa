// The split release build (scripts/build-release.sh, src/split.rs): the
// first load leaves the markdown renderer and the rarely opened parts out;
// each part's chunk is fetched once, when the part is first used (the
// renderer: when the user starts typing), and a chunk that cannot be
// fetched is said so, leaves the page working, and is fetched again when
// the part is used again.
import { test, expect, ChatPage, profileButton } from './fixtures';
import type { Page } from '@playwright/test';

/**
 * The parts' own chunks `page` has requested so far, by name, in order
 * (chunk_N files, code two parts share, come along with either). Requests
 * the service worker answers from its cache count too: they are the page's.
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
  // Nothing but the first load: no chunk until a part is used.
  await page.waitForLoadState('networkidle');
  expect(fetched).toEqual([]);

  // Typing fetches the markdown renderer; the reply is rendered with it.
  await chat.send('Hello *there*');
  const reply = await chat.lastReplyDone();
  await expect(reply.locator('.markdown p').first()).toBeVisible();
  await expect(reply.locator('[data-plain]')).toHaveCount(0);
  expect(fetched).toEqual([expect.stringMatching(/^split_markdown-/)]);

  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  const settingsParts = [
    expect.stringMatching(/^split_settings_form-/),
    expect.stringMatching(/^split_data_tools-/),
  ];
  expect(fetched.slice(1)).toEqual(settingsParts);
  await settings.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  await settings.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Details' }).click();
  const details = page.getByRole('region', { name: 'Conversation details' });
  await expect(details.getByRole('button', { name: 'Export Markdown' })).toBeVisible();
  expect(fetched.slice(1)).toEqual([...settingsParts, expect.stringMatching(/^split_details-/)]);

  // The profile menu (the button is in the first load): fetched at its first opening; focus
  // goes into it once it is there, and Esc closes it.
  const menu = page.getByRole('menu', { name: 'Profiles' });
  for (const opening of [1, 2]) {
    await profileButton(page).click();
    await expect(menu.getByRole('menuitemradio', { name: 'Me' })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(menu).toHaveCount(0);
    await expect(profileButton(page)).toBeFocused();
    expect(fetched.filter((name) => name.startsWith('split_profile_menu-')), `opening ${opening}`).toHaveLength(1);
  }

  // A reload renders the stored reply (the renderer fetched for it, from
  // the service worker's cache) without anything typed.
  await page.reload();
  await expect(chat.replies.last().locator('.markdown p').first()).toBeVisible();
  await expect(chat.replies.last().locator('[data-plain]')).toHaveCount(0);
});

test('a chunk that cannot be fetched is said so, the page keeps working, and using it again fetches it', async ({ server, page, context }) => {
  const fetched = chunkRequests(page);
  const chat = new ChatPage(page);
  await chat.goto(server.url);
  // Offline before any part was used: no chunk is in any cache.
  await context.setOffline(true);
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.getByRole('alert')).toContainText('could not be loaded');
  // Without its form the dialog still closes with Esc.
  await page.keyboard.press('Escape');
  await expect(settings).toBeHidden();
  // Typing asks for the renderer too, and fails quietly: the text stays.
  // Its request is seen at once but fails later (the service worker
  // forwards it): back online before that, it would simply succeed.
  const failed: string[] = [];
  page.on('requestfailed', (request) => failed.push(new URL(request.url()).pathname.slice(1)));
  await chat.box.fill('Typed while offline');
  await expect.poll(() => failed.filter((name) => name.startsWith('split_markdown-')).length).toBe(1);
  expect(fetched.filter((name) => name.startsWith('split_markdown-'))).toHaveLength(1);
  await expect(chat.box).toHaveValue('Typed while offline');

  await context.setOffline(false);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(settings.locator('[data-fact="usage"]')).toContainText('Conversations use');
  await expect(settings.getByRole('alert')).toHaveCount(0);
  await settings.getByRole('button', { name: 'Cancel' }).click();
  expect(fetched.filter((name) => name.startsWith('split_settings_form-'))).toHaveLength(2);

  // Still alive: the message goes out and its reply is rendered.
  await chat.box.press('Enter');
  const reply = await chat.lastReplyDone();
  await expect(reply.locator('.markdown p').first()).toBeVisible();
  expect(fetched.filter((name) => name.startsWith('split_markdown-'))).toHaveLength(2);
});
