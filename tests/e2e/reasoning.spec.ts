// Reasoning ("thinking") models, end to end through confab-proxy: each wire
// form as its servers send it (a scripted upstream speaking their exact
// JSON), a reply that is not streamed, the offline confab-echo-think, and
// Gemini thought parts from an ADK test agent. The disclosure above the
// answer: open and "Thinking…" while the model thinks, closed and "Thought
// for N s" once the answer begins; Copy; reload; export; Stop while
// thinking; never resent to the model; axe-core clean.
import { test as base, expect, agentTest, adkApps, downloadText, expectAccessible, type ChatPage } from './fixtures';
import { scriptedTest, type Behaviour } from './scripted-upstream';
import type { Locator } from '@playwright/test';

const REASONING = 'Two and two make four.';
const ANSWER = 'It is 4.';

/** The reply's disclosure, and its answer (the text outside it). */
const disclosure = (reply: Locator) => reply.locator('details[data-role="reasoning"]');
const answer = (reply: Locator) => reply.locator(':scope > .text');

/** Sends `text` and waits for its reply to end with `status`. */
async function ask(chat: ChatPage, text: string, status = 'complete'): Promise<Locator> {
  await chat.send(text);
  await expect(chat.userMessages.last()).toHaveText(text);
  return chat.lastReplyDone(status);
}

/** A finished reply: reasoning collapsed above the answer, labelled with its time. */
async function expectThought(reply: Locator, reasoning: string, text: string): Promise<void> {
  const details = disclosure(reply);
  await expect(details).toHaveAttribute('data-status', 'done');
  await expect(details).not.toHaveAttribute('open', /.*/);
  await expect(details.locator('summary')).toHaveText(/^Thought for \d+ s$/);
  await expect(details.locator('.text')).toHaveText(reasoning);
  await expect(answer(reply)).toHaveText(text);
  // The answer never holds the reasoning or its tags.
  const shown = (await answer(reply).innerText()).toLowerCase();
  expect(shown).not.toContain(reasoning.toLowerCase().slice(0, 12));
  expect(shown).not.toMatch(/<\/?(think|thinking|reasoning)>/);
}

// ---------------------------------------------------------------------------
// Each wire form, as the servers that use it send it.

const chunk = (model: string, delta: object, finish: string | null = null, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-r1', object: 'chat.completion.chunk', created: 1764000000, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}`;

/** `text` in pieces of `size` characters, so tags and words are cut anywhere. */
const cut = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, i * size + size));

const forms: { name: string; frames: string[] }[] = [
  {
    name: 'DeepSeek: delta.reasoning_content',
    frames: [
      chunk('deepseek-reasoner', { role: 'assistant', content: null, reasoning_content: '' }),
      ...cut(REASONING, 7).map((piece) => chunk('deepseek-reasoner', { content: null, reasoning_content: piece })),
      ...cut(ANSWER, 3).map((piece) => chunk('deepseek-reasoner', { content: piece, reasoning_content: null })),
      chunk('deepseek-reasoner', { content: '', reasoning_content: null }, 'stop', {
        usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 12 }, prompt_cache_hit_tokens: 0, prompt_cache_miss_tokens: 9 },
      }),
      'data: [DONE]',
    ],
  },
  {
    name: 'OpenRouter: delta.reasoning with reasoning_details',
    frames: [
      ': OPENROUTER PROCESSING',
      ...cut(REASONING, 9).map((piece) =>
        `data: ${JSON.stringify({ id: 'gen-1', provider: 'DeepInfra', model: 'deepseek/deepseek-r1', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: '', reasoning: piece, reasoning_details: [{ type: 'reasoning.text', text: piece, format: 'unknown', index: 0 }] }, finish_reason: null, native_finish_reason: null, logprobs: null }] })}`,
      ),
      `data: ${JSON.stringify({ id: 'gen-1', provider: 'DeepInfra', model: 'deepseek/deepseek-r1', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: ANSWER, reasoning: null }, finish_reason: 'stop', native_finish_reason: 'stop', logprobs: null }] })}`,
      `data: ${JSON.stringify({ id: 'gen-1', provider: 'DeepInfra', model: 'deepseek/deepseek-r1', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29, completion_tokens_details: { reasoning_tokens: 12 } } })}`,
      'data: [DONE]',
    ],
  },
  {
    name: 'Groq: delta.reasoning',
    frames: [
      chunk('qwen/qwen3-32b', { role: 'assistant', content: '' }, null, { x_groq: { id: 'req_01' } }),
      ...cut(REASONING, 5).map((piece) => chunk('qwen/qwen3-32b', { reasoning: piece })),
      ...cut(ANSWER, 4).map((piece) => chunk('qwen/qwen3-32b', { content: piece })),
      chunk('qwen/qwen3-32b', {}, 'stop', { x_groq: { id: 'req_01', usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 } } }),
      'data: [DONE]',
    ],
  },
  {
    name: 'delta.thinking',
    frames: [
      ...cut(REASONING, 8).map((piece) => chunk('thinker', { thinking: piece, content: '' })),
      chunk('thinker', { thinking: '', content: ANSWER }, 'stop'),
      'data: [DONE]',
    ],
  },
  {
    name: 'OpenRouter: reasoning.summary and reasoning.encrypted details',
    frames: [
      `data: ${JSON.stringify({ id: 'gen-2', provider: 'OpenAI', model: 'openai/o4-mini', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: '', reasoning_details: [{ type: 'reasoning.summary', summary: REASONING, format: 'openai-responses-v1', index: 0 }] }, finish_reason: null }] })}`,
      `data: ${JSON.stringify({ id: 'gen-2', provider: 'OpenAI', model: 'openai/o4-mini', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: '', reasoning_details: [{ type: 'reasoning.encrypted', data: 'gAAAAABoENCRYPTED', id: 'rs_1', format: 'openai-responses-v1', index: 1 }] }, finish_reason: null }] })}`,
      `data: ${JSON.stringify({ id: 'gen-2', provider: 'OpenAI', model: 'openai/o4-mini', object: 'chat.completion.chunk', created: 1764000000, choices: [{ index: 0, delta: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }] })}`,
      'data: [DONE]',
    ],
  },
  {
    name: 'Ollama / llama.cpp: <think> in the content, tags cut across chunks',
    frames: [
      ...cut(`<think>\n${REASONING}\n</think>\n\n${ANSWER}`, 3).map((piece) =>
        chunk('qwen3:0.6b', { role: 'assistant', content: piece }, null, { system_fingerprint: 'fp_ollama' }),
      ),
      chunk('qwen3:0.6b', { role: 'assistant', content: '' }, 'stop', { system_fingerprint: 'fp_ollama' }),
      'data: [DONE]',
    ],
  },
  {
    name: '<thinking> in the content',
    frames: [...cut(`<thinking>${REASONING}</thinking>${ANSWER}`, 4).map((piece) => chunk('r1-distill', { content: piece })), chunk('r1-distill', {}, 'stop'), 'data: [DONE]'],
  },
  {
    name: '<reasoning> in the content',
    frames: [...cut(`<reasoning>${REASONING}</reasoning>\n${ANSWER}`, 5).map((piece) => chunk('r1-distill', { content: piece })), chunk('r1-distill', {}, 'stop'), 'data: [DONE]'],
  },
];

for (const form of forms) {
  scriptedTest(`${form.name}: reasoning apart, answer clean, not resent`, async ({ chat, page, upstream }) => {
    upstream.script = [{ kind: 'frames', frames: form.frames, delayMs: 20 }];
    const reply = await ask(chat, '2+2?');
    await expectThought(reply, REASONING, ANSWER);
    await expect(page.locator('body')).not.toContainText('gAAAAABoENCRYPTED');
    // The next turn sends the answer back, never the reasoning.
    upstream.script = [{ kind: 'reply', text: 'Six.' }];
    await ask(chat, 'and 3+3?');
    const history = upstream.received[1].messages;
    expect(history.map((m) => [m.role, m.content])).toContainEqual(['assistant', ANSWER]);
    expect(JSON.stringify(upstream.received[1])).not.toContain('Two and two');
    expect(JSON.stringify(upstream.received[1])).not.toMatch(/reasoning|think/i);
  });
}

scriptedTest('a reply that is not streamed is read with its reasoning_content', async ({ chat, upstream }) => {
  const body = JSON.stringify({
    id: 'chatcmpl-w', object: 'chat.completion', created: 1764000000, model: 'deepseek-reasoner',
    choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, reasoning_content: REASONING }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29, completion_tokens_details: { reasoning_tokens: 12 } },
  });
  upstream.script = [{ kind: 'json', body }];
  const reply = await ask(chat, '2+2?');
  await expect(disclosure(reply).locator('.text')).toHaveText(REASONING);
  await expect(answer(reply)).toHaveText(ANSWER);
});

scriptedTest('a <think> that never closes keeps everything as reasoning', async ({ chat, upstream }) => {
  upstream.script = [{ kind: 'frames', frames: [chunk('r1', { content: '<think>Still weigh' }), chunk('r1', { content: 'ing it up' }), chunk('r1', {}, 'length'), 'data: [DONE]'] }];
  const reply = await ask(chat, 'Hard question');
  await expect(disclosure(reply).locator('.text')).toHaveText('Still weighing it up');
  await expect(answer(reply)).toHaveText('');
});

scriptedTest('reasoning is model output: its markup stays inert text', async ({ chat, page, upstream }) => {
  const hostile = 'Hmm <img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> [x](javascript:window.__pwned=1)';
  upstream.script = [{ kind: 'frames', frames: [...cut(hostile, 6).map((piece) => chunk('r1', { reasoning_content: piece })), chunk('r1', { content: ANSWER }, 'stop'), 'data: [DONE]'] }];
  const reply = await ask(chat, 'Try me');
  const details = disclosure(reply);
  await details.locator('summary').click();
  await expect(details.locator('.text')).toContainText('<img src=x onerror="window.__pwned=1">');
  await expect(details.locator('img, script, a[href^="javascript"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await expect(answer(reply)).toHaveText(ANSWER);
});

// ---------------------------------------------------------------------------
// The disclosure's states, Copy, reload, export, Stop, accessibility.

/** DeepSeek's form, slowly: ~2 s of thinking, then the answer. */
const slowThinking = (): Behaviour => ({
  kind: 'frames',
  delayMs: 500,
  frames: [
    chunk('deepseek-reasoner', { role: 'assistant', content: null, reasoning_content: '' }),
    chunk('deepseek-reasoner', { content: null, reasoning_content: 'First, ' }),
    chunk('deepseek-reasoner', { content: null, reasoning_content: 'two and two; ' }),
    chunk('deepseek-reasoner', { content: null, reasoning_content: 'then **four**.' }),
    chunk('deepseek-reasoner', { content: null, reasoning_content: ' Sure.' }),
    chunk('deepseek-reasoner', { content: ANSWER, reasoning_content: null }),
    chunk('deepseek-reasoner', { content: '' }, 'stop'),
    'data: [DONE]',
  ],
});

scriptedTest('open and "Thinking…" while thinking, then closed and "Thought for N s"; Copy; survives reload and export', async ({ chat, page, context, upstream }, testInfo) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  upstream.script = [slowThinking()];
  await chat.send('2+2?');
  const reply = chat.replies.last();
  const details = disclosure(reply);
  await expect(details).toHaveAttribute('data-status', 'thinking');
  await expect(details).toHaveAttribute('open', '');
  await expect(details.locator('summary')).toHaveText('Thinking…');
  await expect(details.locator('.text')).toContainText('two and two');
  await expect(answer(reply)).toHaveText('');
  await expectAccessible(page, 'thinking');

  await chat.lastReplyDone();
  await expect(details).toHaveAttribute('data-status', 'done');
  await expect(details).not.toHaveAttribute('open', /.*/);
  const label = (await details.locator('summary').textContent())!;
  const seconds = Number(label.match(/^Thought for (\d+) s$/)?.[1]);
  // Four frames 500 ms apart between the first reasoning and the answer.
  expect(seconds).toBeGreaterThanOrEqual(2);
  expect(seconds).toBeLessThanOrEqual(4);
  await expect(answer(reply)).toHaveText(ANSWER);
  // Rendered as markdown by the safe writer, not as raw text or HTML.
  await expect(details.locator('.text strong')).toHaveText('four');

  // It opens, and Copy copies the reasoning as it came.
  await details.locator('summary').click();
  await expect(details).toHaveAttribute('open', '');
  await details.getByRole('button', { name: 'Copy thinking' }).click();
  await expect(details.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('First, two and two; then **four**. Sure.');
  await expectAccessible(page, 'thought, open');

  await page.reload();
  const again = chat.replies.last();
  await expect(disclosure(again)).toHaveAttribute('data-status', 'done');
  await expect(disclosure(again)).not.toHaveAttribute('open', /.*/);
  await expect(disclosure(again).locator('summary')).toHaveText(label);
  await expect(disclosure(again).locator('.text')).toContainText('First, two and two; then four. Sure.');
  await expect(answer(again)).toHaveText(ANSWER);
  await expectAccessible(page, 'thought, collapsed, after a reload');

  // Export: JSON keeps it apart from the answer; Markdown as a collapsed section.
  await page.getByRole('button', { name: 'Details' }).click();
  const saved = (button: string, name: string) => downloadText(page, button, testInfo.outputPath(name));
  const json = JSON.parse(await saved('Export JSON', 'thought.json'));
  const event = json.conversations[0].session.events[1];
  expect(event.reasoning.text).toBe('First, two and two; then **four**. Sure.');
  expect(event.reasoning.millis).toBeGreaterThan(1000);
  expect(event.content.parts).toEqual([{ text: ANSWER }]);
  const markdown = await saved('Export Markdown', 'thought.md');
  expect(markdown).toContain(`<details>\n<summary>${label}</summary>\n\nFirst, two and two; then **four**. Sure.\n\n</details>\n\n${ANSWER}`);
});

scriptedTest('Stop while thinking keeps the reasoning that arrived, across a reload', async ({ chat, page, upstream }) => {
  upstream.script = [{ ...(slowThinking() as Extract<Behaviour, { kind: 'frames' }>), delayMs: 50, holdAfter: 4 }];
  await chat.send('2+2?');
  const details = disclosure(chat.replies.last());
  await expect(details.locator('.text')).toContainText('then four.');
  await expect(details.locator('summary')).toHaveText('Thinking…');
  await page.getByRole('button', { name: 'Stop' }).click();
  const reply = await chat.lastReplyDone('stopped');
  await expect(disclosure(reply)).toHaveAttribute('data-status', 'done');
  await expect(disclosure(reply).locator('summary')).toHaveText(/^Thought for \d+ s$/);
  await expect(disclosure(reply).locator('.text')).toHaveText('First, two and two; then four.');
  await page.reload();
  const again = await chat.lastReplyDone('stopped');
  await expect(disclosure(again).locator('.text')).toHaveText('First, two and two; then four.');
});

// ---------------------------------------------------------------------------
// The offline model.

base.describe('offline', () => {
  base.use({ defaultModel: 'confab-echo-think' });

  base('confab-echo-think reasons in reasoning_content before its answer, with no key', async ({ chat, page }) => {
    const reply = await ask(chat, 'What is 2+2?');
    await expect(reply.locator('.author .name')).toHaveText('confab-echo-think');
    const details = disclosure(reply);
    await expect(details.locator('summary')).toHaveText(/^Thought for \d+ s$/);
    await expect(details.locator('.text')).toContainText('The user wrote "What is 2+2?" (message 1 of theirs).');
    await expect(answer(reply)).toContainText('I am confab-echo, the offline demo model');
    await expect(answer(reply)).not.toContainText('The user wrote');
    // Not resent: the echo quotes the conversation it was sent, and the
    // second turn's quotes hold no reasoning.
    const second = await ask(chat, 'And 3+3?');
    await expect(answer(second)).toContainText('This is turn 2');
    await expect(answer(second)).not.toContainText('The user wrote');
    await page.reload();
    await expect(disclosure(chat.replies.first()).locator('.text')).toContainText('The user wrote "What is 2+2?"');
  });
});

// ---------------------------------------------------------------------------
// Agent mode: Gemini thought parts through a real ADK api_server.

agentTest('an ADK agent\'s thought parts stream into the disclosure, never into the answer', async ({ chat, page }) => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect
    .poll(() => dialog.locator('#agent-apps option').evaluateAll((els) => els.map((e) => e.getAttribute('value'))))
    .toContain(adkApps.thinking);
  await dialog.getByLabel('Agent app for new conversations').fill(adkApps.thinking);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();

  await chat.send('Hi');
  const details = disclosure(chat.replies.last());
  await expect(details.locator('summary')).toHaveText('Thinking…');
  await expect(details).toHaveAttribute('open', '');
  const reply = await chat.lastReplyDone();
  const thoughts = 'The user wants a greeting. A short, friendly one will do.';
  await expectThought(reply, thoughts, 'Hello from the thinking agent.');
  await expectAccessible(page, 'agent thought');
  await page.reload();
  const again = await chat.lastReplyDone();
  await expectThought(again, thoughts, 'Hello from the thinking agent.');
});
