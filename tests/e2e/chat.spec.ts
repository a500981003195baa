// The walking skeleton's user stories, in real Chromium against the real
// confab-proxy and its offline model.
import { test, expect } from './fixtures';

test('a streamed chat in two conversations survives a reload', async ({ chat, page }) => {
  await expect(chat.sidebar).toBeVisible();
  await chat.send('Plan a trip to Paris');
  await expect(chat.userMessages).toHaveText(['Plan a trip to Paris']);
  // The reply streams: first seen incomplete while streaming, then complete.
  const streaming = page.locator('[data-role="assistant"][data-status="streaming"]');
  await expect(streaming.locator('.text')).not.toHaveText('');
  const partial = (await streaming.locator('.text').textContent()) ?? '';
  const first = await chat.lastReplyDone();
  const firstText = (await first.locator('.text').textContent()) ?? '';
  expect(firstText.length).toBeGreaterThan(partial.length);
  expect(firstText).toContain('confab-echo');
  expect(firstText).toContain('turn 1');
  expect(firstText).toContain('Plan a trip to Paris');
  await expect(chat.box).toHaveValue('');

  await chat.send('What about March?');
  const second = await chat.lastReplyDone();
  await expect(second).toContainText('turn 2');
  await expect(second).toContainText('Your first message was: "Plan a trip to Paris"');
  await expect(second).toContainText('What about March?');
  // Exactly one reply per message, and nothing went wrong on the way.
  await expect(chat.replies).toHaveCount(2);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(second.locator('.author .name')).toHaveText('confab-echo');

  await page.getByRole('button', { name: 'New chat' }).click();
  await expect(chat.userMessages).toHaveCount(0);
  await chat.send('Hello from the second chat');
  await expect(await chat.lastReplyDone()).toContainText('turn 1');
  expect(await chat.sessionTitles()).toEqual(['Hello from the second chat', 'Plan a trip to Paris']);

  await page.reload();
  await expect(chat.box).toBeVisible();
  // Newest first, titled from the first message; the newest is open.
  await expect(chat.sessionButtons).toHaveText(['Hello from the second chat', 'Plan a trip to Paris']);
  await expect(chat.userMessages).toHaveText(['Hello from the second chat']);
  await expect(chat.replies).toHaveCount(1);

  await chat.sessionButtons.filter({ hasText: 'Plan a trip to Paris' }).click();
  await expect(chat.userMessages).toHaveText(['Plan a trip to Paris', 'What about March?']);
  await expect(chat.replies).toHaveCount(2);
  for (const status of await chat.replies.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))) {
    expect(status).toBe('complete');
  }
  await expect(chat.replies.nth(1)).toContainText('Your first message was: "Plan a trip to Paris"');
  await expect(chat.replies.first()).toHaveText(new RegExp(firstText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('Shift+Enter makes a new line and Enter sends both lines', async ({ chat }) => {
  await chat.box.fill('line one');
  await chat.box.press('Shift+Enter');
  await chat.box.pressSequentially('line two');
  await expect(chat.box).toHaveValue('line one\nline two');
  await expect(chat.userMessages).toHaveCount(0);
  await chat.box.press('Enter');
  await expect(chat.userMessages).toHaveText(['line one\nline two']);
  await chat.lastReplyDone();
});

test.describe('a slow model', () => {
  test.use({ tokenDelayMs: 120 });

  test('Stop keeps the partial reply, marked stopped, across a reload', async ({ chat, page }) => {
    await chat.send('Tell me a long story');
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"]');
    await expect(streaming.locator('.text')).toContainText('confab-echo');
    await page.getByRole('button', { name: 'Stop' }).click();
    const stopped = await chat.lastReplyDone('stopped');
    const kept = (await stopped.locator('.text').textContent()) ?? '';
    expect(kept).toContain('confab-echo');
    expect(kept).not.toContain('see the README');
    await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();

    await page.reload();
    await expect(chat.replies).toHaveCount(1);
    await expect(chat.replies.first()).toHaveAttribute('data-status', 'stopped');
    await expect(chat.replies.first().locator('.text')).toHaveText(kept);
  });
});

test('with the proxy stopped, sending shows an error and keeps the text; Retry recovers', async ({ chat, server, page }) => {
  await server.stop();
  await chat.send('Are you there?');
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('Could not reach the model proxy');
  await expect(chat.userMessages).toHaveText(['Are you there?']);
  await expect(failed.getByRole('button', { name: 'Retry' })).toBeVisible();

  // The proxy comes back on the same address; the message was saved.
  await server.start();
  await page.reload();
  await expect(chat.userMessages).toHaveText(['Are you there?']);
  await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
  const reply = await chat.lastReplyDone();
  await expect(reply).toContainText('You said: "Are you there?"');
  await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
});

test('settings persist, and an HTTP error from the proxy is shown with the text kept', async ({ chat, page }) => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Endpoint base URL')).toHaveValue('/api/v1');
  await dialog.getByLabel('Model').fill('no-such-model');
  await dialog.getByLabel('System prompt').fill('Answer in French.');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();

  await chat.send('Bonjour');
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('HTTP 404');
  await expect(failed.getByRole('alert')).toContainText('no-such-model');
  await expect(chat.userMessages).toHaveText(['Bonjour']);

  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(dialog.getByLabel('Model')).toHaveValue('no-such-model');
  await expect(dialog.getByLabel('System prompt')).toHaveValue('Answer in French.');
  // Back to the proxy's default model: Retry now succeeds, with the system prompt sent.
  await dialog.getByLabel('Model').fill('');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
  const reply = await chat.lastReplyDone();
  await expect(reply).toContainText('You said: "Bonjour"');
  await expect(reply).toContainText('system prompt of 17 characters');
});

test.describe('a long conversation', () => {
  test.use({ tokenDelayMs: 1 });

  test('opens on its newest 24 messages; earlier ones come on request; new ones push none out', async ({ chat, page }) => {
    test.setTimeout(90_000);
    for (let i = 1; i <= 22; i++) {
      await chat.send(`message ${i}`);
      await chat.lastReplyDone();
    }
    await page.reload();
    await expect(chat.replies).toHaveCount(12);
    await expect(chat.userMessages).toHaveCount(12);
    await expect(chat.userMessages.first()).toHaveText('message 11');
    await expect(chat.userMessages.last()).toHaveText('message 22');
    const earlier = page.getByRole('button', { name: 'Show earlier messages (20 more)' });
    // Sending while the window is open keeps the oldest shown message.
    await chat.send('message 23');
    await chat.lastReplyDone();
    await expect(chat.userMessages.first()).toHaveText('message 11');
    await earlier.click();
    await expect(chat.userMessages).toHaveCount(23);
    await expect(chat.userMessages.first()).toHaveText('message 1');
    await expect(page.locator('.earlier')).toHaveCount(0);
  });
});
