// Agent mode against a real Google ADK api_server (PyPI google-adk, test
// agents in tests/adk_agents that need no LLM), reached same-origin through
// confab-proxy's /adk relay: chat and reload, a server restart that lost the
// session (restored from the local copy), a server that keeps sessions in
// SQLite, tool calls, code and images, streaming, and the fallback to the
// model when the agent server is away.
import { agentTest as test, expect, Proxy, AdkServer, adkApps, useAgent, type ChatPage } from './fixtures';
import type { Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

async function ask(chat: ChatPage, text: string, status = 'complete') {
  await chat.send(text);
  await expect(chat.userMessages.last()).toHaveText(text);
  return chat.lastReplyDone(status);
}

async function stateRow(page: Page, scope: 'Session' | 'User', key: string): Promise<string | null> {
  const details = page.getByRole('region', { name: 'Conversation details' });
  if (!(await details.isVisible())) await page.getByRole('button', { name: 'Details' }).click();
  // The panel's code is fetched when first opened (a split part): wait for it.
  await expect(details.getByText('Conversation id')).toBeVisible();
  const row = details.locator(`table[data-scope="${scope}"] tbody tr`, { has: page.locator('th', { hasText: key }) });
  return (await row.count()) ? await row.locator('td').textContent() : null;
}

test('a chat with an agent keeps its history and state across a reload', async ({ chat, page }) => {
  await useAgent(page, adkApps.history);
  const first = await ask(chat, 'My name is Ada');
  await expect(first.locator('.text')).toHaveText('I am history_agent. This is turn 1. You said first: "My name is Ada". You said now: "My name is Ada".');
  await expect(first.locator('.author .name')).toHaveText('history_agent');
  const second = await ask(chat, 'What did I say?');
  await expect(second.locator('.text')).toContainText('This is turn 2. You said first: "My name is Ada"');
  // The agent's state deltas, by scope.
  expect(await stateRow(page, 'Session', 'turns')).toBe('2');
  expect(await stateRow(page, 'User', 'user:greeted')).toBe('true');

  await page.reload();
  await expect(chat.userMessages).toHaveText(['My name is Ada', 'What did I say?']);
  await expect(chat.replies).toHaveCount(2);
  await expect(chat.replies.last().locator('.text')).toContainText('This is turn 2');
});

test('the agent server restarts and forgets the session: Confab restores it and the agent sees the earlier turns', async ({ chat, page, adk }) => {
  await useAgent(page, adkApps.history);
  await ask(chat, 'Remember the word pelican');
  await ask(chat, 'And the word heron');
  await adk.restart(); // in memory: every session is gone

  const reply = await ask(chat, 'Which words?');
  await expect(reply.locator('.text')).toHaveText('I am history_agent. This is turn 3. You said first: "Remember the word pelican". You said now: "Which words?".');
  await expect(page.locator('.notice')).toContainText('restored it with its 4 earlier events');
  await page.reload();
  await expect(chat.userMessages).toHaveText(['Remember the word pelican', 'And the word heron', 'Which words?']);
});

test.describe('with the sessions in SQLite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-adk-'));
  test.use({ sessionDb: path.join(dir, 'sessions.db') });
  test.afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a restart loses nothing and needs no restore', async ({ chat, page, adk }) => {
    await useAgent(page, adkApps.history);
    await ask(chat, 'First words');
    await adk.restart();
    const reply = await ask(chat, 'Second words');
    await expect(reply.locator('.text')).toContainText('This is turn 2. You said first: "First words"');
    await expect(page.locator('.notice')).toHaveCount(0);
  });
});

test('the agent server away: a clear error, and the model answers instead in the same conversation with its history', async ({ chat, page, adk }) => {
  await useAgent(page, adkApps.history);
  await ask(chat, 'Hello agent');
  await adk.stop();
  const failed = await ask(chat, 'Are you still there?', 'error');
  await expect(failed.getByRole('alert')).toContainText('agent server');
  await failed.getByRole('button', { name: 'Answer with the model instead' }).click();
  const fallback = await chat.lastReplyDone();
  // The offline model quotes the first message and counts the turns: it
  // received the agent conversation as context.
  await expect(fallback.locator('.author .name')).toHaveText('confab-echo');
  await expect(fallback.locator('.text')).toContainText('This is turn 2 of our conversation');
  await expect(fallback.locator('.text')).toContainText('Hello agent');
  // The conversation stays with the model from now on, across a reload.
  await page.reload();
  const next = await ask(chat, 'Thanks');
  await expect(next.locator('.author .name')).toHaveText('confab-echo');
});

test('tool calls, code with its output, and an image are shown as such', async ({ chat, page }) => {
  await useAgent(page, adkApps.tool);
  await ask(chat, 'Weather in Paris?');
  const call = page.locator('[data-part="function-call"]');
  await expect(call).toContainText('Tool call: get_weather');
  await call.locator('summary').click();
  await expect(call.locator('pre')).toContainText('"city": "Paris"');
  await expect(page.locator('[data-part="function-response"]')).toContainText('Tool result: get_weather');
  await expect(chat.replies.last().locator('.text')).toHaveText('The weather in Paris: clear sky, 18 °C.');

  await page.getByRole('button', { name: 'New chat' }).click();
  await useAgent(page, adkApps.code);
  await ask(chat, 'Add up 1 to 10');
  await expect(page.locator('[data-part="executable-code"]')).toContainText('print(sum(range(1, 11)))');
  await expect(page.locator('[data-part="code-execution-result"]')).toContainText('55');
  // The image part is stored as an attachment (its bytes in IndexedDB) and
  // shown as one: URL-safe base64 decoded, the browser really drew the PNG.
  const image = page.locator('[data-role="assistant"] [data-role="attachment"][data-kind="image"]');
  await expect(image).toHaveCount(1);
  await expect(image).toHaveAttribute('data-state', 'ready');
  await expect.poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(4);
  // Kept across a reload, from the local copy.
  await page.reload();
  await expect(image).toHaveCount(1);
  await expect.poll(() => image.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(4);
});

test('partial text streams in and the final event replaces it, never shown twice', async ({ chat, page }) => {
  await useAgent(page, adkApps.streaming);
  await chat.send('Stream to me');
  const streaming = page.locator('[data-role="assistant"][data-status="streaming"] .text');
  await expect(streaming).not.toHaveText('');
  const reply = await chat.lastReplyDone();
  const text = ((await reply.locator('.text').textContent()) ?? '').trim();
  expect(text.length).toBeGreaterThan(20);
  // Shown once: the aggregated final event did not double the partials.
  const words = text.split(/\s+/);
  expect(text).not.toContain(`${words.slice(0, 3).join(' ')} ${words.slice(0, 3).join(' ')}`);
  expect(text.indexOf(words.slice(0, 3).join(' '))).toBe(text.lastIndexOf(words.slice(0, 3).join(' ')));
  await page.reload();
  await expect(chat.replies).toHaveCount(1);
  await expect(chat.replies.first().locator('.text')).toHaveText(text);
});

test('events of several agents show who wrote each', async ({ chat, page }) => {
  await useAgent(page, adkApps.multi);
  await chat.send('Research and write');
  await expect(chat.replies.locator('.author .name')).toHaveText(['researcher', 'writer']);
});

test('an error inside the run ends the reply with its message and offers the model', async ({ chat, page }) => {
  await useAgent(page, adkApps.error);
  const failed = await ask(chat, 'Fail, please', 'error');
  await expect(failed.getByRole('alert')).toContainText('error_agent failed on purpose');
  await expect(failed.getByRole('button', { name: 'Answer with the model instead' })).toBeVisible();
  await expect(chat.userMessages).toHaveText(['Fail, please']);
});

test('a conversation moved from the model to an agent keeps its history: the agent sees the earlier turns', async ({ chat, page }) => {
  const first = await ask(chat, 'Started with the model');
  await expect(first.locator('.author .name')).toHaveText('confab-echo');
  await page.getByRole('button', { name: 'Details' }).click();
  const form = page.getByRole('form', { name: 'This conversation' });
  await expect(form.getByLabel('Answered by').locator('option')).toContainText([`Agent: ${adkApps.history}`]);
  await form.getByLabel('Answered by').selectOption(adkApps.history);
  await form.getByRole('button', { name: 'Save conversation options' }).click();
  const reply = await ask(chat, 'Now the agent');
  await expect(reply.locator('.text')).toHaveText('I am history_agent. This is turn 2. You said first: "Started with the model". You said now: "Now the agent".');
});

test('an agent server on another origin that refuses the page gets a message naming the flag to set', async ({ chat, page, adk, server }) => {
  await useAgent(page, adkApps.history);
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await dialog.getByLabel('Agent server URL').fill(adk.url);
  await dialog.getByRole('button', { name: 'Save' }).click();
  const failed = await ask(chat, 'Hello across origins', 'error');
  await expect(failed.getByRole('alert')).toContainText(`adk api_server --allow_origins ${new URL(server.url).origin}`);
  await expect(failed.getByRole('alert')).toContainText('--adk-url');
});

test('Stop ends a streaming agent reply and keeps what arrived', async ({ chat, page }) => {
  await useAgent(page, adkApps.streaming);
  await chat.send('Stream, then stop');
  const streaming = page.locator('[data-role="assistant"][data-status="streaming"] .text');
  await expect(streaming).toContainText('Streaming');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const stopped = await chat.lastReplyDone('stopped');
  const kept = ((await stopped.locator('.text').textContent()) ?? '').trim();
  expect(kept).toContain('Streaming');
  await page.reload();
  await expect(chat.userMessages).toHaveText(['Stream, then stop']);
  await expect(chat.replies.last()).toHaveAttribute('data-status', /stopped|complete/);
});
