// Working with messages: Copy, and Edit, which sends the edited text in a
// branch of the conversation (a new session from that point, ADK's way to
// branch); both conversations are kept and each links to the other.
import { test, expect } from './fixtures';

test('editing a sent message sends it in a branch; both conversations stay, linked both ways, across a reload', async ({ chat, page }) => {
  await chat.send('first question');
  await chat.lastReplyDone();
  await chat.send('second question');
  await chat.lastReplyDone();

  const second = page.locator('.message[data-role="user"]').filter({ hasText: 'second question' });
  await second.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Edited message' }).fill('second question, edited');
  await page.getByRole('button', { name: 'Send as a branch' }).click();

  // The branch: the messages before the edit, then the edited one, answered
  // with that history (the offline model quotes the first and latest).
  await expect(chat.userMessages).toHaveText(['first question', 'second question, edited']);
  const reply = await chat.lastReplyDone();
  await expect(reply.locator('.text')).toContainText('first question');
  await expect(reply.locator('.text')).toContainText('second question, edited');
  await expect(chat.sessionButtons).toHaveCount(2);
  const from = page.locator('.branched-from');
  await expect(from).toContainText('Branched from “first question” at an edited message.');

  // The original is whole, and says where the branch was made.
  await from.getByRole('button').click();
  await expect(chat.userMessages).toHaveText(['first question', 'second question']);
  await expect(chat.replies).toHaveCount(2);
  const link = page.locator('.message[data-role="user"]').filter({ hasText: 'second question' }).locator('.branch-link');
  await expect(link).toHaveText('Edited in a branch: open it');

  // Both links survive a reload.
  await page.reload();
  await chat.sessionButtons.nth(1).click();
  await expect(chat.userMessages).toHaveText(['first question', 'second question']);
  await link.getByRole('button', { name: 'open it' }).click();
  await expect(chat.userMessages).toHaveText(['first question', 'second question, edited']);
  await expect(page.locator('.branched-from')).toBeVisible();
});

test('Cancel leaves the message and the conversation as they were', async ({ chat, page }) => {
  await chat.send('keep me');
  await chat.lastReplyDone();
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Edited message' }).fill('changed my mind');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(chat.userMessages).toHaveText(['keep me']);
  await expect(chat.sessionButtons).toHaveCount(1);
});

test('Copy puts a message on the clipboard', async ({ chat, page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await chat.send('copy this please');
  const reply = await chat.lastReplyDone();
  await page.locator('.message[data-role="user"]').getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('copy this please');
  await reply.getByRole('button', { name: 'Copy' }).click();
  await expect(reply.getByRole('button', { name: 'Copied' })).toBeVisible();
  const replyText = (await reply.locator('.text').innerText()).trim();
  expect((await page.evaluate(() => navigator.clipboard.readText())).trim()).toBe(replyText);
});
