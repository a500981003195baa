// The first moments of a page: the app draws its first frame before the
// bulk store (bodies and records, in IndexedDB) has loaded, and waits for
// it before anything reads a conversation. Here IndexedDB is made slow or
// unavailable by wrapping the browser's own `indexedDB.open` for the app's
// database (an init script): the store behind it is the real one.
import { test, expect, ChatPage } from './fixtures';
import { sessionKeys, storage, unpackedStorage } from './stored';
import type { Page } from '@playwright/test';

const notice = (page: Page) => page.locator('.notice[role="alert"]');
// By CSS: an inert element is outside the accessibility tree that role
// locators read.
const sidebar = (page: Page) => page.locator('nav#sidebar');
const newChat = (page: Page) => page.locator('button.new-chat');

/** Holds back the success of opening `confab-store` by `delayMs`. */
function slowBulkStore(delayMs: number) {
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    const request = open.call(this, name, version);
    if (name !== 'confab-store') return request;
    const setter = Object.getOwnPropertyDescriptor(IDBRequest.prototype, 'onsuccess')!.set!;
    Object.defineProperty(request, 'onsuccess', {
      set(handler: (event: Event) => void) {
        setter.call(this, (event: Event) => setTimeout(() => handler.call(this, event), delayMs));
      },
    });
    (window as unknown as { __heldBack: number }).__heldBack = performance.now();
    return request;
  };
}

/** Opens `confab-store` but never says so: the app is never told. */
function silentBulkStore() {
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    const request = open.call(this, name, version);
    if (name === 'confab-store') Object.defineProperty(request, 'onsuccess', { set() {} });
    return request;
  };
}

/** Makes opening `confab-store` throw, as a browser that refuses IndexedDB does. */
function noBulkStore() {
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    if (name === 'confab-store') throw new DOMException('IndexedDB is refused here', 'InvalidStateError');
    return open.call(this, name, version);
  };
}

test('with IndexedDB slow to load, the box takes a message at once, sent into the open conversation once its messages are read', async ({ chat, page }) => {
  await chat.send('the first question');
  await chat.lastReplyDone();
  await expect(chat.sessionButtons).toHaveCount(1);

  await page.addInitScript(slowBulkStore, 1_500);
  await page.reload();
  // Drawn before the store has loaded: the box takes text, the rest waits.
  await expect(chat.box).toBeEnabled();
  await expect(page.locator('.app')).toHaveAttribute('aria-busy', 'true');
  await expect(sidebar(page)).toHaveAttribute('inert', '');
  await expect(newChat(page)).toBeDisabled();
  await expect(page.locator('.chat-header')).toHaveAttribute('inert', '');
  await chat.box.fill('the second question');
  await chat.box.press('Enter');
  await chat.box.press('Enter');
  // Still loading: nothing read, nothing refused, the text kept in the box.
  expect(await page.evaluate(() => document.querySelector('.app')?.getAttribute('aria-busy'))).toBe('true');
  await expect(chat.box).toHaveValue('the second question');
  await expect(chat.userMessages).toHaveCount(0);
  await expect(notice(page)).toHaveCount(0);

  // Loaded: the conversation is listed and open, and the message went into it.
  await expect(page.locator('.app')).not.toHaveAttribute('aria-busy', 'true', { timeout: 10_000 });
  await expect(chat.userMessages).toHaveText(['the first question', 'the second question']);
  await chat.lastReplyDone();
  await expect(chat.replies).toHaveCount(2);
  await expect(chat.box).toHaveValue('');
  await expect(chat.sessionButtons).toHaveCount(1);
  await expect(sidebar(page)).not.toHaveAttribute('inert', '');
  await expect(notice(page)).toHaveCount(0);
  // Stored once, in one session.
  const stored = await unpackedStorage(page);
  const sessions = sessionKeys(stored);
  expect(sessions).toHaveLength(1);
  type Event = { author: string; content?: { parts?: { text?: string }[] } };
  const asked = (JSON.parse(stored[sessions[0]]).events as Event[])
    .filter((e) => e.author === 'user')
    .map((e) => e.content?.parts?.[0]?.text);
  expect(asked).toEqual(['the first question', 'the second question']);
});

test('with IndexedDB slow to load, a click on the inert sidebar does nothing, and a click Playwright waits for lands once it has loaded', async ({ chat, page }) => {
  await chat.send('kept in the first');
  await chat.lastReplyDone();
  await newChat(page).click();
  await chat.send('kept in the second');
  await chat.lastReplyDone();
  await expect(chat.sessionButtons).toHaveCount(2);

  await page.addInitScript(slowBulkStore, 1_500);
  await page.reload();
  await expect(chat.box).toBeEnabled();
  // A pointer's click, as a user's: the inert sidebar does not take it.
  const button = (await newChat(page).boundingBox())!;
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await expect(page.locator('.app')).not.toHaveAttribute('aria-busy', 'true', { timeout: 10_000 });
  // The current conversation opened: the click started no new chat.
  await expect(chat.userMessages).toHaveText(['kept in the second']);

  await page.reload();
  // Playwright waits for the enabled button, then the conversation.
  await newChat(page).click();
  await expect(page.locator('.app')).not.toHaveAttribute('aria-busy', 'true');
  await expect(chat.userMessages).toHaveCount(0);
  await sidebar(page).locator('.session', { hasText: 'kept in the first' }).click();
  await expect(chat.userMessages).toHaveText(['kept in the first']);
  await expect(notice(page)).toHaveCount(0);
});

test('a format-6 store with IndexedDB refused is not opened: the app says why, keeps the typed text, and writes nothing', async ({ chat, page }) => {
  await chat.send('a conversation to keep');
  await chat.lastReplyDone();
  const before = await storage(page);

  await page.addInitScript(noBulkStore);
  await page.reload();
  await expect(page.getByText(/IndexedDB, where conversations are kept, could not be opened/).first()).toBeVisible();
  await chat.box.fill('typed while blocked');
  await chat.box.press('Enter');
  await expect(chat.box).toHaveValue('typed while blocked');
  await expect(chat.userMessages).toHaveCount(0);
  const after = await page.evaluate(() => {
    const all: Record<string, string> = {};
    for (let i = 0; i < localStorage.length; i++) all[localStorage.key(i)!] = localStorage.getItem(localStorage.key(i)!)!;
    return all;
  });
  // localStorage as it was (the bulk store's part of `before` is in IndexedDB).
  for (const [key, value] of Object.entries(after)) expect(before[key]).toBe(value);
});

test('with IndexedDB never answering, the app says so after 8 s, and the typed message stays in the box', async ({ chat, page }) => {
  await chat.send('asked before');
  await chat.lastReplyDone();

  await page.addInitScript(silentBulkStore);
  await page.reload();
  await chat.box.fill('waiting for the store');
  await chat.box.press('Enter');
  await expect(page.locator('[data-notice="still-loading"]')).toContainText('have not loaded after 8 s', { timeout: 15_000 });
  await expect(chat.box).toHaveValue('waiting for the store');
  await expect(chat.userMessages).toHaveCount(0);
  await expect(sidebar(page)).toHaveAttribute('inert', '');
});
