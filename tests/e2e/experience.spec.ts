// Working with conversations (search, rename, pin, delete with undo),
// keyboard shortcuts, auto-scroll, themes, the narrow layout, and an axe-core
// accessibility check of the main views: real Chromium against the release
// build served by confab-proxy with its offline model.
import { test, expect, expectAccessible, type ChatPage } from './fixtures';
import type { Page } from '@playwright/test';
import { storage } from './stored';

/** Sends a message and waits for its reply to complete. */
async function exchange(chat: ChatPage, text: string): Promise<void> {
  await chat.send(text);
  await chat.lastReplyDone();
}

/** The options (Rename, Pin, Delete) of the sidebar entry titled `title`. */
async function entryAction(page: Page, title: string, action: 'Rename' | 'Pin' | 'Unpin' | 'Delete'): Promise<void> {
  const entry = page.locator('.sidebar li.entry').filter({ has: page.locator('.session', { hasText: title }) });
  await entry.getByRole('button', { name: `Options for “${title}”` }).click();
  await entry.getByRole('button', { name: action, exact: true }).click();
}

/** Three conversations, the oldest first: alpha (about Paris), beta, gamma. */
async function threeConversations(chat: ChatPage, page: Page): Promise<void> {
  await exchange(chat, 'alpha: we talked about the Louvre\nand the croissants of Montmartre');
  await page.getByRole('button', { name: 'New chat' }).click();
  await exchange(chat, 'beta: gardening in spring');
  await page.getByRole('button', { name: 'New chat' }).click();
  await exchange(chat, 'gamma: tax forms');
  await expect(chat.sessionButtons).toHaveCount(3);
}

const search = (page: Page) => page.getByRole('searchbox', { name: 'Search conversations' });

test.describe('working with conversations', () => {
  test('search finds a conversation by its message text, Ctrl+K focuses it, Esc clears it', async ({ chat, page }) => {
    await threeConversations(chat, page);
    await chat.box.focus();
    await page.keyboard.press('Control+k');
    await expect(search(page)).toBeFocused();
    // "croissants" is only in alpha's first message's second line, not in its title.
    await page.keyboard.type('CROISSANTS');
    const results = page.locator('.search-results .session');
    await expect(results).toHaveCount(1);
    await expect(results.first().locator('.result-title')).toHaveText('alpha: we talked about the Louvre');
    await expect(results.first().locator('mark')).toHaveText('croissants');
    await expect(results.first().locator('.snippet')).toContainText('and the croissants of Montmartre');
    await expect(page.locator('#group-results')).toHaveText('1 conversation found');
    // The echo model quotes each message, so reply text is searched too:
    // "spring" is in beta's message and its reply, and nowhere else.
    await search(page).fill('spring');
    await expect(results).toHaveCount(1);
    await expect(results.first().locator('.result-title')).toHaveText('beta: gardening in spring');
    await search(page).fill('no such words anywhere');
    await expect(page.locator('#group-results')).toHaveText('No conversation matches');
    await expect(results).toHaveCount(0);

    await search(page).fill('montmartre');
    await expect(results).toHaveCount(1);
    await search(page).press('Escape');
    await expect(search(page)).toHaveValue('');
    await expect(page.locator('.search-results')).toHaveCount(0);
    await expect(chat.sessionButtons).toHaveCount(3);

    // Meta+K (macOS) works as Ctrl+K, and choosing a result opens it.
    await chat.box.focus();
    await page.keyboard.press('Meta+k');
    await expect(search(page)).toBeFocused();
    await page.keyboard.type('louvre');
    await results.first().click();
    await expect(chat.userMessages.first()).toContainText('croissants of Montmartre');
  });

  test('rename and pin survive a reload', async ({ chat, page }) => {
    await threeConversations(chat, page);
    await entryAction(page, 'beta: gardening in spring', 'Rename');
    const input = page.getByRole('textbox', { name: 'Conversation title' });
    await expect(input).toBeFocused();
    await input.fill('My garden');
    await input.press('Enter');
    await expect(chat.sessionButtons).toHaveText(['gamma: tax forms', 'My garden', 'alpha: we talked about the Louvre']);

    // Esc while renaming keeps the old title.
    await entryAction(page, 'gamma: tax forms', 'Rename');
    await input.fill('not this');
    await input.press('Escape');
    await expect(chat.sessionButtons.first()).toHaveText('gamma: tax forms');

    await entryAction(page, 'alpha: we talked about the Louvre', 'Pin');
    await expect(page.getByRole('heading', { name: 'Pinned' })).toBeVisible();
    await expect(chat.sessionButtons).toHaveText(['alpha: we talked about the Louvre', 'gamma: tax forms', 'My garden']);
    // The pinned entry says so to assistive technology: its icon is an image named "Pinned".
    await expect(chat.sessionButtons.first().getByRole('img', { name: 'Pinned' })).toBeVisible();
    await expect(chat.sessionButtons.nth(1).getByRole('img', { name: 'Pinned' })).toHaveCount(0);

    await page.reload();
    await expect(chat.box).toBeVisible();
    await expect(chat.sessionButtons).toHaveText(['alpha: we talked about the Louvre', 'gamma: tax forms', 'My garden']);
    await expect(chat.sessionButtons.first().getByRole('img', { name: 'Pinned' })).toBeVisible();
    // The header shows the renamed title too.
    await chat.sessionButtons.filter({ hasText: 'My garden' }).click();
    await expect(page.locator('.chat-header h1')).toHaveText('My garden');
    await expect(chat.userMessages).toHaveText(['beta: gardening in spring']);
    // And the new title is what search finds.
    await search(page).fill('garden');
    await expect(page.locator('.search-results .result-title').first()).toHaveText('My garden');

    await search(page).fill('');
    await entryAction(page, 'alpha: we talked about the Louvre', 'Unpin');
    await expect(page.getByRole('heading', { name: 'Pinned' })).toHaveCount(0);
    await page.reload();
    await expect(chat.sessionButtons).toHaveText(['gamma: tax forms', 'My garden', 'alpha: we talked about the Louvre']);
  });

  test('delete and Undo brings the conversation back whole, also after a reload', async ({ chat, page }) => {
    await threeConversations(chat, page);
    await chat.sessionButtons.filter({ hasText: 'beta' }).click();
    await chat.send('a second message in beta');
    await chat.lastReplyDone();
    await entryAction(page, 'beta: gardening in spring', 'Delete');
    // Gone from the list at once, and closed (it was open).
    await expect(chat.sessionButtons).toHaveText(['gamma: tax forms', 'alpha: we talked about the Louvre']);
    await expect(chat.userMessages).toHaveCount(0);
    const toast = page.locator('.toast');
    await expect(toast).toContainText('Conversation deleted');
    await toast.getByRole('button', { name: 'Undo' }).click();
    await expect(toast).toHaveCount(0);
    await expect(chat.sessionButtons).toHaveText(['beta: gardening in spring', 'gamma: tax forms', 'alpha: we talked about the Louvre']);
    // Whole: both exchanges, reopened because it was open.
    await expect(chat.userMessages).toHaveText(['beta: gardening in spring', 'a second message in beta']);
    await expect(chat.replies).toHaveCount(2);
    await page.reload();
    await expect(chat.sessionButtons).toHaveText(['beta: gardening in spring', 'gamma: tax forms', 'alpha: we talked about the Louvre']);
  });

  test('a deletion without Undo is carried out after the window and stays deleted after a reload', async ({ chat, page }) => {
    await threeConversations(chat, page);
    await entryAction(page, 'gamma: tax forms', 'Delete');
    const toast = page.locator('.toast');
    await expect(toast).toBeVisible();
    // Still in storage during the window (nothing is written until it ends)...
    // (a crash now would lose nothing the user did not confirm)...
    // Format 5: each conversation has its own index entry, its summary or its tombstone.
    const entryKey = await page.evaluate(() =>
      Object.keys(localStorage).find(
        (k) => k.startsWith('confab:entry:') && JSON.parse(localStorage.getItem(k)!).listed?.title === 'gamma: tax forms',
      ),
    );
    expect(entryKey).toBeDefined();
    const id = entryKey!.split(':').pop()!;
    const stored = () => page.evaluate((key) => localStorage.getItem(key) ?? '', entryKey!);
    expect(JSON.parse(await stored())).toHaveProperty('listed');
    // Bodies are in IndexedDB (format 6), or still in localStorage.
    const bodyKeys = async () => Object.keys(await storage(page)).filter((k) => k.startsWith('confab:session:') && k.endsWith(id));
    expect(await bodyKeys()).toHaveLength(1);
    // ...and deleted when it ends (about 8 s).
    await expect(toast).toHaveCount(0, { timeout: 15_000 });
    await expect.poll(async () => Object.keys(JSON.parse(await stored()))).toEqual(['deleted']);
    expect(await bodyKeys()).toHaveLength(0);
    await page.reload();
    await expect(chat.sessionButtons).toHaveText(['beta: gardening in spring', 'alpha: we talked about the Louvre']);
  });

  test('leaving the page ends the undo window: the deletion is carried out', async ({ chat, page, server }) => {
    await threeConversations(chat, page);
    await entryAction(page, 'alpha: we talked about the Louvre', 'Delete');
    await expect(page.locator('.toast')).toBeVisible();
    // A navigation away fires pagehide at once, well inside the window.
    await page.goto(`${server.url}/?again`);
    await expect(chat.box).toBeVisible();
    await expect(chat.sessionButtons).toHaveText(['gamma: tax forms', 'beta: gardening in spring']);
  });
});

test.describe('a long list', () => {
  test('the sidebar shows its first 100 conversations (over all groups) and "Show more" the next 100; the oldest still opens', async ({ chat, page }) => {
    await chat.send('the oldest one');
    await chat.lastReplyDone();
    // 230 newer conversations, as index entries only (format 5: one key
    // each): the sidebar lists them without reading any conversation.
    await page.evaluate(() => {
      const now = Date.now() / 1000;
      for (let i = 0; i < 230; i++) {
        const id = `seeded-${String(i).padStart(3, '0')}`;
        const summary = { id, appName: 'confab', userId: 'local', title: `seeded ${i}`, lastUpdateTime: now + 1000 - i, eventCount: 2 };
        localStorage.setItem(`confab:entry:confab:local:${id}`, JSON.stringify({ listed: summary }));
      }
    });
    await page.reload();
    const more = chat.sidebar.getByRole('button', { name: /^Show more/ });
    await expect(chat.sessionButtons).toHaveCount(100);
    await expect(chat.sessionButtons.first()).toHaveText('seeded 0');
    await expect(more).toHaveText('Show more (131 not shown)');
    await more.click();
    await expect(chat.sessionButtons).toHaveCount(200);
    await expect(more).toHaveText('Show more (31 not shown)');
    await more.click();
    await expect(chat.sessionButtons).toHaveCount(231);
    await expect(more).toHaveCount(0);
    await chat.sessionButtons.last().click();
    await expect(chat.userMessages).toHaveText(['the oldest one']);
  });
});

test.describe('keyboard', () => {
  test.use({ tokenDelayMs: 60 });

  test('Esc stops a streaming reply, Ctrl+Shift+O starts a new chat, ? lists the shortcuts', async ({ chat, page }) => {
    await chat.send('a question to interrupt');
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"] .text');
    await expect(streaming).not.toHaveText('');
    await page.keyboard.press('Escape');
    const stopped = await chat.lastReplyDone('stopped');
    await expect(stopped).not.toContainText('see the README');

    await page.keyboard.press('Control+Shift+O');
    await expect(chat.userMessages).toHaveCount(0);
    await expect(chat.box).toBeFocused();
    await expect(page.locator('.chat-header h1')).toHaveText('New chat');
    await expect(chat.sessionButtons).toHaveCount(1, { timeout: 5_000 });

    // "?" typed into the message box is text, not a shortcut.
    await chat.box.press('?');
    await expect(chat.box).toHaveValue('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(dialog).toHaveCount(0);
    await chat.box.fill('');
    await chat.box.blur();
    await page.keyboard.press('?');
    await expect(dialog).toBeVisible();
    for (const keys of ['Enter', 'Shift+Enter', 'Esc', 'Ctrl+K / ⌘K', 'Ctrl+Shift+O / ⌘⇧O', '?']) {
      await expect(dialog.locator('kbd', { hasText: keys }).first()).toBeVisible();
    }
    await expectAccessible(page, 'shortcuts dialog');
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    // The button in the sidebar opens it too.
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(dialog).toBeHidden();
  });

  test('every control is reachable by Tab and shows a focus ring', async ({ chat, page }) => {
    await exchange(chat, 'hello');
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        const style = getComputedStyle(el);
        return {
          name: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40),
          outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth),
        };
      });
      if (!focused) continue;
      expect(focused.outline, `focus ring on "${focused.name}"`).not.toBe('none');
      expect(focused.width, `focus ring on "${focused.name}"`).toBeGreaterThan(0);
      seen.add(focused.name);
    }
    for (const name of ['Search conversations', 'New chat', 'Keyboard shortcuts', 'Settings', 'Message']) {
      expect([...seen], `reached "${name}" by Tab`).toContain(name);
    }
  });
});

test.describe('auto-scroll', () => {
  test.use({ tokenDelayMs: 90, viewport: { width: 900, height: 420 } });

  test('follows a streaming reply until the user scrolls up; Jump to latest brings it back', async ({ chat, page }) => {
    const messages = page.locator('section.messages');
    const distanceFromEnd = () =>
      messages.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    const replyLength = async () =>
      ((await page.locator('[data-role="assistant"]').last().locator('.text').textContent()) ?? '').length;
    // A tall message, so the reply starts below the fold.
    const tall = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n');
    await chat.box.fill(tall);
    await chat.box.press('Enter');
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"]');
    await expect(streaming).toHaveCount(1);
    await expect.poll(replyLength).toBeGreaterThan(40);
    // Following: at the end while text arrives.
    await expect.poll(distanceFromEnd).toBeLessThan(40);
    const jump = page.getByRole('button', { name: 'Jump to latest' });
    await expect(jump).toHaveCount(0);

    // The user scrolls up: the list stays where they put it.
    await messages.hover();
    await page.mouse.wheel(0, -600);
    await expect(jump).toBeVisible();
    const before = await replyLength();
    await expect.poll(replyLength).toBeGreaterThan(before + 20);
    expect(await distanceFromEnd()).toBeGreaterThan(100);
    await expect(streaming).toHaveCount(1);

    await jump.click();
    await expect(jump).toHaveCount(0);
    await expect.poll(distanceFromEnd).toBeLessThan(40);
    // Following again as more text arrives.
    const after = await replyLength();
    await expect.poll(replyLength).toBeGreaterThan(after + 20);
    await expect.poll(distanceFromEnd).toBeLessThan(40);
    await chat.lastReplyDone();
    await expect.poll(distanceFromEnd).toBeLessThan(40);
  });
});

test.describe('themes', () => {
  const background = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = 'rgb(255, 255, 255)';
  const dark = 'rgb(23, 23, 27)';

  async function chooseTheme(page: Page, label: string): Promise<void> {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByRole('combobox', { name: 'Theme' }).selectOption({ label });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toBeHidden();
  }

  test('light, dark and system: applied as data-theme, persisted, system follows the OS', async ({ chat, page }) => {
    await page.emulateMedia({ colorScheme: 'light' });
    const html = page.locator('html');
    await expect(html).toHaveAttribute('data-theme', 'system');
    expect(await background(page)).toBe(light);
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => background(page)).toBe(dark);

    await chooseTheme(page, 'Light');
    await expect(html).toHaveAttribute('data-theme', 'light');
    await expect.poll(() => background(page)).toBe(light);

    await chooseTheme(page, 'Dark');
    await expect(html).toHaveAttribute('data-theme', 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => background(page)).toBe(dark);
    await exchange(chat, 'dark mode message');
    await expectAccessible(page, 'dark theme');

    await page.reload();
    await expect(chat.box).toBeVisible();
    await expect(html).toHaveAttribute('data-theme', 'dark');
    expect(await background(page)).toBe(dark);
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.getByRole('combobox', { name: 'Theme' })).toHaveValue('dark');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await chooseTheme(page, 'Same as the system');
    await expect(html).toHaveAttribute('data-theme', 'system');
    await expect.poll(() => background(page)).toBe(light);
  });
});

test.describe('narrow layout (360 px)', () => {
  test.use({ viewport: { width: 360, height: 740 } });

  test('the sidebar is a drawer: menu button, Esc, choosing a conversation, no sideways scrolling', async ({ chat, page }) => {
    const menu = page.getByRole('button', { name: 'Conversations menu' });
    await expect(menu).toBeVisible();
    await expect(chat.sidebar).toBeHidden();
    await exchange(chat, 'first narrow chat');
    await menu.click();
    await page.getByRole('button', { name: 'New chat' }).click();
    await expect(chat.sidebar).toBeHidden();
    await expect(chat.box).toBeFocused();
    await exchange(chat, 'second narrow chat');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(360);

    await menu.click();
    await expect(chat.sidebar).toBeVisible();
    await expect(menu).toHaveAttribute('aria-expanded', 'true');
    await expect(search(page)).toBeFocused();
    await expectAccessible(page, 'narrow layout with the drawer open');
    await page.keyboard.press('Escape');
    await expect(chat.sidebar).toBeHidden();
    await expect(menu).toBeFocused();

    // Ctrl+K opens the drawer to search; choosing a conversation closes it.
    await page.keyboard.press('Control+k');
    await expect(chat.sidebar).toBeVisible();
    await expect(search(page)).toBeFocused();
    await chat.sessionButtons.filter({ hasText: 'first narrow chat' }).click();
    await expect(chat.sidebar).toBeHidden();
    await expect(chat.userMessages).toHaveText(['first narrow chat']);
    // The backdrop closes it too.
    await menu.click();
    await expect(chat.sidebar).toBeVisible();
    await page.mouse.click(350, 400);
    await expect(chat.sidebar).toBeHidden();
  });
});

test.describe('accessibility (axe-core)', () => {
  test('no serious or critical violations: empty chat, a chat with messages, settings open', async ({ chat, page }) => {
    await expectAccessible(page, 'empty chat');
    await exchange(chat, 'Is this page accessible?');
    await exchange(chat, 'And with two exchanges?');
    await expectAccessible(page, 'chat with messages');
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.getByRole('dialog', { name: 'Settings' })).toBeVisible();
    await expectAccessible(page, 'settings dialog');
  });
});
