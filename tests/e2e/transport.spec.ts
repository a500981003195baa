// The client's model transport in real Chromium, through confab-proxy, to a
// scripted OpenAI-speaking upstream on loopback: rate limits retried with a
// countdown, a stalled or dropped stream kept and continued, the context
// budget, regenerate, and a conversation's own model options.
import { expect } from './fixtures';
import { scriptedTest } from './scripted-upstream';
import type { Page } from '@playwright/test';

const test = scriptedTest;

async function openSettings(page: Page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect(dialog).toBeVisible();
  return dialog;
}

const LONG_REPLY = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';

test('a 429 with Retry-After counts down and retries by itself, then the reply streams', async ({ chat, page, upstream }) => {
  upstream.script = [
    { kind: 'error', status: 429, message: 'Rate limit reached for requests', retryAfter: '2' },
    { kind: 'reply', text: 'Worth the wait.' },
  ];
  await chat.send('Are you busy?');
  const countdown = page.locator('[data-role="assistant"] .countdown');
  await expect(countdown).toContainText(/rate limited\. Trying again in [12] s/);
  const reply = await chat.lastReplyDone();
  await expect(reply.locator('.text')).toHaveText('Worth the wait.');
  await expect(countdown).toHaveCount(0);
  expect(upstream.received).toHaveLength(2);
});

test('a rate limit that lasts can be cancelled: the error says so, and Retry works later', async ({ chat, page, upstream }) => {
  upstream.script = [
    { kind: 'error', status: 429, message: 'Rate limit reached', retryAfter: '30' },
    { kind: 'reply', text: 'Back again.' },
  ];
  await chat.send('Please answer');
  const countdown = page.locator('[data-role="assistant"] .countdown');
  await expect(countdown).toContainText('Trying again in');
  await countdown.getByRole('button', { name: 'Cancel' }).click();
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('HTTP 429');
  await expect(failed.getByRole('alert')).toContainText('rate limited');
  expect(upstream.received).toHaveLength(1);
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expect(chat.replies.last().locator('.text')).toHaveText('Back again.');
  await expect(chat.userMessages).toHaveText(['Please answer']);
});

test('a stream that stalls is given up after the configured time; what arrived is kept', async ({ chat, page, upstream }) => {
  const settings = await openSettings(page);
  await settings.getByLabel('Give up on a reply silent for (seconds)').fill('5');
  await settings.getByRole('button', { name: 'Save' }).click();
  upstream.script = [{ kind: 'stall', text: LONG_REPLY, words: 3 }];
  await chat.send('Talk slowly');
  const reply = chat.replies.last();
  await expect(reply.locator('.text')).toHaveText('one two three ');
  await expect(reply).toHaveAttribute('data-status', 'interrupted', { timeout: 15_000 });
  await expect(reply.getByRole('alert')).toContainText('sent nothing for 5 seconds');
  await expect(reply.getByRole('button', { name: 'Continue' })).toBeVisible();
  await expect(reply.getByRole('button', { name: 'Retry' })).toBeVisible();
  await page.reload();
  await expect(chat.replies.last()).toHaveAttribute('data-status', 'interrupted');
  await expect(chat.replies.last().locator('.text')).toHaveText('one two three ');
});

test('a connection dropped mid-reply keeps the part, and Continue asks the model to go on from it', async ({ chat, upstream }) => {
  upstream.script = [
    { kind: 'drop', text: LONG_REPLY, words: 4 },
    { kind: 'reply', text: 'five six seven.' },
  ];
  await chat.send('Count for me');
  const cut = await chat.lastReplyDone('interrupted');
  await expect(cut.locator('.text')).toHaveText('one two three four ');
  await cut.getByRole('button', { name: 'Continue' }).click();
  const rest = await chat.lastReplyDone();
  await expect(rest.locator('.text')).toHaveText('five six seven.');
  // The continuation request carried the part and asked to go on.
  const asked = upstream.received[1].messages;
  expect(asked.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  expect(asked[1].content).toBe('one two three four ');
  expect(asked[2].content).toContain('Continue it exactly where it stopped');
  // The next question sends both parts as context.
  await chat.send('Thanks');
  await chat.lastReplyDone();
  const next = upstream.received[2].messages.map((m) => m.content);
  expect(next).toEqual(['Count for me', 'one two three four ', 'five six seven.', 'Thanks']);
});

test('Regenerate asks again with the same context and keeps the first reply', async ({ chat, upstream }) => {
  upstream.script = [
    { kind: 'reply', text: 'First answer.' },
    { kind: 'reply', text: 'Second answer.' },
  ];
  await chat.send('Say something');
  const first = await chat.lastReplyDone();
  await first.getByRole('button', { name: 'Regenerate' }).click();
  await expect(chat.replies).toHaveCount(2);
  await expect(chat.replies.last().locator('.text')).toHaveText('Second answer.');
  await chat.lastReplyDone();
  expect(upstream.received[1].messages).toEqual(upstream.received[0].messages);
  await expect(chat.replies.first().getByRole('button', { name: 'Regenerate' })).toHaveCount(0);
});

test('the context budget sends the newest turns that fit, shows the cut, and refuses a message too large', async ({ chat, page, upstream }) => {
  const settings = await openSettings(page);
  await settings.getByLabel('Context window (tokens)').fill('256');
  await settings.getByRole('button', { name: 'Save' }).click();
  // A quarter of 256 is kept for the reply: 192 tokens for the request.
  // Each turn is 79 tokens (300 characters, 4 per message), each reply 5:
  // the third request has no room for the first turn.
  const turn = (n: number) => `Turn ${n} `.padEnd(300, 'x');
  upstream.fallback = { kind: 'reply', text: 'ok' };
  for (const n of [1, 2, 3]) {
    await chat.send(turn(n));
    await chat.lastReplyDone();
  }
  const sent = upstream.received[2].messages.map((m) => m.content);
  expect(sent[sent.length - 1]).toBe(turn(3));
  expect(sent).not.toContain(turn(1));
  await expect(page.locator('.context-cut')).toContainText('not sent to the model');

  // A message that alone is larger than the window: said, not sent, kept.
  const huge = 'y'.repeat(2_000);
  await chat.send(huge);
  const refused = await chat.lastReplyDone('error');
  await expect(refused.getByRole('alert')).toContainText('more than fits in the 256-token context window');
  expect(upstream.received).toHaveLength(3);
  await page.reload();
  await expect(chat.userMessages.last()).toHaveText(huge);
});

test("a conversation's own model, temperature and system prompt are sent, and kept across a reload", async ({ chat, page, upstream }) => {
  await chat.send('Hello');
  await chat.lastReplyDone();
  await page.getByRole('button', { name: 'Details' }).click();
  const form = page.getByRole('form', { name: 'This conversation' });
  await form.getByLabel('Model for this conversation').fill('scripted-model');
  await form.getByLabel('Temperature').fill('0.3');
  await form.getByLabel('System prompt for this conversation').fill('Answer like a pirate.');
  await form.getByRole('button', { name: 'Save conversation options' }).click();
  await chat.send('Again');
  await chat.lastReplyDone();
  const asked = upstream.received[1];
  expect(asked.model).toBe('scripted-model');
  expect(asked.temperature).toBeCloseTo(0.3);
  expect(asked.messages[0]).toEqual({ role: 'system', content: 'Answer like a pirate.' });
  expect(upstream.received[0].temperature).toBeUndefined();

  await page.reload();
  await page.getByRole('button', { name: 'Details' }).click();
  await expect(page.getByLabel('Temperature')).toHaveValue('0.3');
  // Another conversation keeps the defaults.
  await page.getByRole('button', { name: 'New chat' }).click();
  await chat.send('Elsewhere');
  await chat.lastReplyDone();
  expect(upstream.received[2].temperature).toBeUndefined();
  expect(upstream.received[2].messages[0].role).toBe('user');
});

test('offline, the reply says so and Retry works once back online', async ({ chat, context, upstream }) => {
  upstream.script = [{ kind: 'reply', text: 'Back online.' }];
  await context.setOffline(true);
  await chat.send('Anyone there?');
  const failed = await chat.lastReplyDone('error');
  await expect(failed.getByRole('alert')).toContainText('This device is offline');
  await context.setOffline(false);
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expect(chat.replies.last().locator('.text')).toHaveText('Back online.');
  await expect(chat.userMessages).toHaveText(['Anyone there?']);
});
