// Session management as the seed documents describe it: profiles (users),
// conversation ids, state scopes, feedback and ending on the trace, expiry.
import { test, expect, profileButton, profileMenu, type ChatPage } from './fixtures';
import type { Page } from '@playwright/test';

async function openDetails(page: Page) {
  const details = page.getByRole('region', { name: 'Conversation details' });
  if (!(await details.isVisible())) await page.getByRole('button', { name: 'Details' }).click();
  await expect(details).toBeVisible();
  return details;
}

async function fact(page: Page, name: string): Promise<string> {
  const details = await openDetails(page);
  return ((await details.locator(`[data-fact="${name}"]`).textContent()) ?? '').trim();
}

async function stateRows(page: Page, scope: 'Session' | 'User' | 'App'): Promise<Record<string, string>> {
  const details = await openDetails(page);
  const rows = await details.locator(`table[data-scope="${scope}"] tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector('th')!.textContent!, tr.querySelector('td')!.textContent!]),
  );
  return Object.fromEntries(rows);
}

async function addProfile(page: Page, name: string) {
  await profileMenu(page, 'New profile…');
  const dialog = page.getByRole('dialog', { name: 'New profile' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Add profile' }).click();
  await expect(dialog).toBeHidden();
}

async function chatOnce(chat: ChatPage, text: string) {
  await chat.send(text);
  await expect(chat.userMessages.last()).toHaveText(text);
  return chat.lastReplyDone();
}

test('two profiles keep their conversations and user state apart across a reload', async ({ chat, page }) => {
  const profile = profileButton(page);
  await expect(profile).toHaveAccessibleName('Profile: Me');
  await chatOnce(chat, 'Question from Me');
  await chatOnce(chat, 'Second question from Me');
  const myConversation = await fact(page, 'conversation-id');
  expect(myConversation).toMatch(/^conv_[0-9a-f]{12}$/);
  expect(await fact(page, 'session-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(await fact(page, 'query-count')).toBe('2');
  expect(await stateRows(page, 'User')).toEqual({ 'user:query_total': '2' });
  expect((await stateRows(page, 'Session'))['query_count']).toBe('2');
  expect((await stateRows(page, 'Session'))['conversation_id']).toBe(`"${myConversation}"`);

  await addProfile(page, 'Bob');
  await expect(profile).toHaveAccessibleName('Profile: Bob');
  await expect(chat.sessionButtons).toHaveCount(0);
  await expect(chat.userMessages).toHaveCount(0);
  await chatOnce(chat, 'Question from Bob');
  await expect(chat.sessionButtons).toHaveText(['Question from Bob']);
  expect(await fact(page, 'conversation-id')).not.toBe(myConversation);
  expect(await stateRows(page, 'User')).toEqual({ 'user:query_total': '1' });
  // App state is shared by every user of the app.
  expect(await stateRows(page, 'App')).toEqual({ 'app:last_model': '"confab-echo"' });

  await page.reload();
  await expect(profile).toHaveAccessibleName('Profile: Bob');
  await expect(chat.sessionButtons).toHaveText(['Question from Bob']);
  await expect(chat.userMessages).toHaveText(['Question from Bob']);

  await profileMenu(page, 'Me');
  await expect(profile).toHaveAccessibleName('Profile: Me');
  await expect(chat.sessionButtons).toHaveText(['Question from Me']);
  await expect(chat.userMessages).toHaveText(['Question from Me', 'Second question from Me']);
  expect(await fact(page, 'conversation-id')).toBe(myConversation);
  expect(await stateRows(page, 'User')).toEqual({ 'user:query_total': '2' });

  // Renaming keeps the id (and so the conversations).
  await profileMenu(page, 'Rename profile…');
  const rename = page.getByRole('dialog', { name: 'Rename profile' });
  await rename.getByLabel('Name').fill('Alice');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await page.reload();
  await expect(profile).toHaveAccessibleName('Profile: Alice');
  await expect(chat.sessionButtons).toHaveText(['Question from Me']);
});

test('a message sent in the same moment as a profile switch goes into that profile\'s open conversation, once', async ({ chat, page }) => {
  await chatOnce(chat, 'Question from Me');
  await addProfile(page, 'Bob');
  await chatOnce(chat, 'Question from Bob');

  await profileButton(page).click();
  const item = page.getByRole('menu', { name: 'Profiles' }).getByRole('menuitemradio', { name: 'Me', exact: true });
  await expect(item).toBeVisible();
  // The switch, the typing and Enter in one task: before the switch's
  // listing, which runs after the next frame.
  const listedBefore = await item.evaluate(async (me) => {
    (me as HTMLElement).click();
    const box = document.querySelector('textarea[aria-label="Message"]') as HTMLTextAreaElement;
    box.value = 'Follow-up from Me';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    // The next task: this one's rendering done, the listing's not begun.
    await new Promise((next) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = next;
      channel.port2.postMessage(null);
    });
    return {
      entries: [...document.querySelectorAll('nav[aria-label="Conversations"] .session')].map((e) => e.textContent!.trim()),
      busy: document.querySelector('nav[aria-label="Conversations"] .groups')?.getAttribute('aria-busy') ?? null,
    };
  });
  // Bob's entries were taken away at once, and Me's not listed yet but for
  // the conversation the message went to.
  expect(listedBefore).toEqual({ entries: ['Question from Me'], busy: 'true' });

  await expect(profileButton(page)).toHaveAccessibleName('Profile: Me');
  await expect(chat.userMessages).toHaveText(['Question from Me', 'Follow-up from Me']);
  await chat.lastReplyDone();
  await expect(chat.replies).toHaveCount(2);
  await expect(chat.box).toHaveValue('');
  await expect(chat.sessionButtons).toHaveText(['Question from Me']);

  // Bob's conversation is as it was.
  await profileMenu(page, 'Bob');
  await expect(chat.sessionButtons).toHaveText(['Question from Bob']);
  await expect(chat.userMessages).toHaveText(['Question from Bob']);
  await page.reload();
  await profileMenu(page, 'Me');
  await expect(chat.userMessages).toHaveText(['Question from Me', 'Follow-up from Me']);
});

test('feedback on a reply and ending the conversation are recorded on its trace', async ({ chat, page }) => {
  const reply = await chatOnce(chat, 'Plan a weekend in Lyon');
  await reply.getByRole('button', { name: 'Good reply' }).click();
  await expect(reply.getByText('You rated this reply as good.')).toBeVisible();
  await reply.getByRole('button', { name: 'Add a comment' }).click();
  await reply.getByLabel('Comment (optional)').fill('Exactly what I needed');
  await reply.getByRole('button', { name: 'Send feedback' }).click();
  await expect(reply.getByText('You rated this reply as good: “Exactly what I needed”')).toBeVisible();
  await expect(reply.getByRole('button', { name: 'Good reply' })).toHaveAttribute('aria-pressed', 'true');
  const sessionId = await fact(page, 'session-id');

  await page.getByRole('button', { name: 'End conversation' }).click();
  const dialog = page.getByRole('dialog', { name: 'End conversation' });
  await dialog.getByLabel('Satisfied', { exact: true }).check();
  await dialog.getByLabel('Comment (optional)').fill('Thanks, all set');
  await dialog.getByRole('button', { name: 'End conversation' }).click();
  await expect(page.getByText('You ended this conversation: satisfied.')).toBeVisible();
  await expect(page.locator('.ended').getByText('“Thanks, all set”')).toBeVisible();
  await expect(page.getByRole('button', { name: 'End conversation' })).toHaveCount(0);

  // The trace: root, the query span with its model call and the feedback.
  const trace = page.getByRole('region', { name: 'Trace' });
  await openDetails(page);
  expect(await fact(page, 'status')).toBe('ended (ended)');
  const root = trace.locator('[data-span-name="conversation"]');
  await expect(root).toContainText('feedback: satisfied');
  await expect(root).toContainText('“Thanks, all set”');
  const query = trace.locator('[data-span-name="user_query_1"]');
  const queryId = await query.getAttribute('data-span-id');
  await expect(query).toHaveAttribute('data-parent-id', (await root.getAttribute('data-span-id'))!);
  await expect(query).toContainText('first token');
  const call = trace.locator('[data-span-name="chat confab-echo"]');
  await expect(call).toHaveAttribute('data-parent-id', queryId!);
  await expect(call).toContainText('tokens');
  // The thumb's feedback, then the same rating with the comment asked for.
  await expect(trace.locator('[data-span-name="feedback"]')).toHaveCount(2);
  const feedback = trace.locator('[data-span-name="feedback"]').filter({ hasText: 'Exactly what I needed' });
  await expect(feedback).toHaveAttribute('data-parent-id', queryId!);
  await expect(feedback).toContainText('rating: up');
  await expect(feedback).toContainText('“Exactly what I needed”');

  // Ended conversations stay in their group, marked; the next message starts a new one.
  const ended = chat.sidebar.locator('.session[data-ended="true"]');
  await expect(ended).toHaveText(['Plan a weekend in Lyon']);
  await expect(ended).toHaveAttribute('title', 'Ended');
  await chatOnce(chat, 'Something new');
  expect(await fact(page, 'session-id')).not.toBe(sessionId);
  await expect(chat.sidebar.locator('.session[data-ended="false"]')).toHaveText(['Something new']);

  await page.reload();
  await ended.click();
  await expect(chat.userMessages).toHaveText(['Plan a weekend in Lyon']);
  await expect(page.getByText('You ended this conversation: satisfied.')).toBeVisible();
  await expect(chat.replies.first().getByText('You rated this reply as good: “Exactly what I needed”')).toBeVisible();
});

test('an idle conversation expires: the next message starts a new session, the old one stays readable', async ({ page, server }) => {
  await page.clock.install();
  const chat = new (await import('./fixtures')).ChatPage(page);
  await chat.goto(server.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await settings.getByLabel('End a conversation idle for (minutes)').fill('5');
  await settings.getByRole('button', { name: 'Save' }).click();

  await chatOnce(chat, 'Before the break');
  const firstSession = await fact(page, 'session-id');
  await page.clock.fastForward('04:00');
  await chatOnce(chat, 'Still within the limit');
  expect(await fact(page, 'session-id')).toBe(firstSession);

  await page.clock.fastForward('06:00');
  await chatOnce(chat, 'After the break');
  const secondSession = await fact(page, 'session-id');
  expect(secondSession).not.toBe(firstSession);
  expect(await fact(page, 'query-count')).toBe('1');
  await expect(chat.userMessages).toHaveText(['After the break']);

  const ended = chat.sidebar.locator('.session[data-ended="true"]');
  await expect(ended).toHaveText(['Before the break']);
  await ended.click();
  await expect(chat.userMessages).toHaveText(['Before the break', 'Still within the limit']);
  await expect(page.getByText('This conversation expired after a period of inactivity.')).toBeVisible();
  expect(await fact(page, 'status')).toBe('ended (expired)');
  const root = page.getByRole('region', { name: 'Trace' }).locator('[data-span-name="conversation"]');
  await expect(root).toContainText('end_reason: expired');
});
