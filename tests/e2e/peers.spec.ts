// The model transport against real third-party peers, in real Chromium and
// from Node: LiteLLM (a real OpenAI-compatible model proxy, answering from
// mock models) and llmock (a scriptable mock that breaks streams on demand),
// each behind confab-proxy, which adds the upstream key so the page never
// holds it. Each peer starts once per describe block (LiteLLM takes ~6-9 s)
// on a free loopback port and is stopped in afterAll; confab-proxy starts per
// test (the `server` fixture).
import { test, expect, LiteLLM, Llmock, chooseModel, type ChatPage } from './fixtures';
import type { Page } from '@playwright/test';
import { storage } from './stored';

/** What a streamed chat-completions answer consists of, read from Node. */
type Streamed = {
  status: number;
  contentType: string;
  /** Every `data:` payload but `[DONE]`, parsed. */
  frames: Record<string, any>[];
  /** The `data:` payloads in order, `[DONE]` included, as text. */
  data: string[];
  body: string;
};

async function postChat(base: string, body: object, key?: string): Promise<Streamed> {
  const response = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  const data: string[] = [];
  if (contentType.startsWith('text/event-stream')) {
    // SSE: events end with a blank line; a `data:` line carries the payload
    // (`: ping` comments and other fields are skipped).
    for (const event of text.split(/\r?\n\r?\n/)) {
      const lines = event.split(/\r?\n/).filter((l) => l.startsWith('data:'));
      if (lines.length) data.push(lines.map((l) => l.slice(5).trimStart()).join('\n'));
    }
  }
  const frames = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
  return { status: response.status, contentType, frames, data, body: text };
}

/** The frames with what differs per call (ids, timestamps) taken out. */
function comparable(frames: Record<string, any>[]): Record<string, any>[] {
  return frames.map(({ id: _id, created: _created, ...rest }) => rest);
}

const contentOf = (frames: Record<string, any>[]) =>
  frames.map((f) => f.choices?.[0]?.delta?.content ?? '').join('');

/** Sends `text`, then reloads: the message must have been saved, whatever the reply did. */
async function expectSavedAfterReload(chat: ChatPage, page: Page, texts: string[]): Promise<void> {
  await page.reload();
  await expect(chat.box).toBeVisible();
  await expect(chat.userMessages).toHaveText(texts);
}

test.describe('LiteLLM behind confab-proxy', () => {
  // Not .serial: one failing test should not skip the others. Playwright
  // runs this file in one worker, so LiteLLM starts once (again only if a
  // failure restarts the worker).
  const litellm = new LiteLLM();
  test.beforeAll(async () => litellm.start());
  test.afterAll(async () => litellm.stop());
  // The key reaches confab-proxy by environment only; the page sends none.
  test.use({
    upstreamUrl: async ({}, use) => use(litellm.v1),
    upstreamKey: async ({}, use) => use(litellm.masterKey),
  });

  test('a streamed two-turn chat with the model chosen in Settings; the key never reaches the page', async ({
    chat,
    page,
  }) => {
    // Everything the page sends, to check that the key is in none of it.
    const sent: string[] = [];
    page.on('request', (request) => sent.push(JSON.stringify(request.headers()) + (request.postData() ?? '')));

    // The dialog lists LiteLLM's models (GET /api/v1/models through confab-proxy).
    await chooseModel(page, LiteLLM.models.normal);
    const firstResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/chat/completions'));
    await chat.send('Hello LiteLLM');
    expect((await firstResponse).headers()['content-type']).toContain('text/event-stream');
    const first = await chat.lastReplyDone();
    await expect(first.locator('.text')).toHaveText(LiteLLM.reply);
    await expect(first.locator('.author .name')).toHaveText(LiteLLM.models.normal);

    // Second turn with another model: the whole conversation goes upstream.
    await chooseModel(page, LiteLLM.models.brief);
    const secondRequest = page.waitForRequest((r) => r.url().endsWith('/api/v1/chat/completions'));
    await chat.send('And a shorter one?');
    const body = (await secondRequest).postDataJSON();
    expect(body.model).toBe(LiteLLM.models.brief);
    expect(body.stream).toBe(true);
    expect(body.messages.filter((m: { role: string }) => m.role !== 'system')).toEqual([
      { role: 'user', content: 'Hello LiteLLM' },
      { role: 'assistant', content: LiteLLM.reply },
      { role: 'user', content: 'And a shorter one?' },
    ]);
    const second = await chat.lastReplyDone();
    await expect(second.locator('.text')).toHaveText(LiteLLM.briefReply);
    await expect(chat.replies).toHaveCount(2);
    await expect(page.getByRole('alert')).toHaveCount(0);

    await expectSavedAfterReload(chat, page, ['Hello LiteLLM', 'And a shorter one?']);
    await expect(chat.replies.locator('.text')).toHaveText([LiteLLM.reply, LiteLLM.briefReply]);
    const stored = JSON.stringify(await storage(page)) + (await page.evaluate(() => document.documentElement.outerHTML));
    expect(stored).not.toContain(litellm.masterKey);
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) expect(request).not.toContain(litellm.masterKey);
  });

  // This LiteLLM wants a key, which must never be in the page (the keyless
  // one below is the page's direct endpoint). From Node: what comes out of
  // confab-proxy equals what LiteLLM sends.
  test('from Node: the stream, the 429 and the 500 come through confab-proxy unchanged', async ({ server }) => {
    const proxied = `${server.url}/api/v1`;
    const request = { model: LiteLLM.models.normal, stream: true, messages: [{ role: 'user', content: 'Hi' }] };

    // Without the key LiteLLM refuses: the key confab-proxy adds is what lets the call through.
    expect((await postChat(litellm.v1, request)).status).toBeGreaterThanOrEqual(400);

    const direct = await postChat(litellm.v1, request, litellm.masterKey);
    const through = await postChat(proxied, request);
    for (const answer of [direct, through]) {
      expect(answer.status).toBe(200);
      expect(answer.contentType).toContain('text/event-stream');
      expect(answer.frames.filter((f) => f.choices?.[0]?.delta?.content).length).toBeGreaterThan(5);
      expect(contentOf(answer.frames)).toBe(LiteLLM.reply);
      expect(answer.frames.some((f) => f.choices?.[0]?.finish_reason === 'stop')).toBe(true);
      expect(answer.data.at(-1)).toBe('[DONE]');
    }
    // Chunk for chunk the same, but for per-call ids and timestamps, and
    // for text confab-proxy holds back while it could still be the start
    // of the key (a chunk ending in "s": the key starts "sk-"). Held text
    // goes out with the next chunk: so far, what came through is what
    // LiteLLM sent less at most a possible start of the key.
    const withoutContent = (frames: Record<string, any>[]) =>
      comparable(frames).map((f) => ({
        ...f,
        choices: f.choices?.map((choice: Record<string, any>) => ({ ...choice, delta: { ...choice.delta, content: undefined } })),
      }));
    expect(withoutContent(through.frames)).toEqual(withoutContent(direct.frames));
    let [sentByLiteLLM, passedOn] = ['', ''];
    direct.frames.forEach((frame, n) => {
      sentByLiteLLM += contentOf([frame]);
      passedOn += contentOf([through.frames[n]]);
      expect(sentByLiteLLM.startsWith(passedOn)).toBe(true);
      expect(litellm.masterKey.startsWith(sentByLiteLLM.slice(passedOn.length))).toBe(true);
      expect(sentByLiteLLM.length - passedOn.length).toBeLessThan(litellm.masterKey.length);
    });
    expect(new Set(through.frames.map((f) => f.id)).size).toBe(1);

    for (const [model, status, kind] of [
      [LiteLLM.models.rateLimited, 429, 'RateLimitError'],
      [LiteLLM.models.serverError, 500, 'InternalServerError'],
    ] as const) {
      const failing = { ...request, model };
      const [directError, proxiedError] = [await postChat(litellm.v1, failing, litellm.masterKey), await postChat(proxied, failing)];
      for (const answer of [directError, proxiedError]) {
        expect(answer.status, `${model} status`).toBe(status);
        expect(answer.contentType).toContain('application/json');
        // OpenAI's error shape: {"error": {"message", "type", "code"}}.
        const { error } = JSON.parse(answer.body);
        expect(error.message).toContain(kind);
        expect(typeof error.type).toBe('string');
      }
      expect(JSON.parse(proxiedError.body)).toEqual(JSON.parse(directError.body));
    }
  });

  test('a reply that streams the key back in pieces shows [redacted]: never the key in the page, its storage or the body', async ({
    chat,
    page,
    server,
  }) => {
    const key = litellm.masterKey;
    const request = { model: LiteLLM.models.echoKey, stream: true, messages: [{ role: 'user', content: 'My key?' }] };
    const shown = LiteLLM.keyEchoReply('[redacted]');

    // LiteLLM itself streams the key a few characters per event: no event,
    // and so no run of bytes in the body, holds the whole key, while the
    // text a client assembles does. Matching the key in bytes cannot work.
    const direct = await postChat(litellm.v1, request, key);
    expect(direct.status).toBe(200);
    expect(contentOf(direct.frames)).toBe(LiteLLM.keyEchoReply(key));
    const pieces = direct.frames.map((f) => f.choices?.[0]?.delta?.content ?? '');
    expect(pieces.filter((piece) => piece && key.includes(piece)).length).toBeGreaterThan(3);
    expect(direct.body).not.toContain(key);

    // Through confab-proxy, from Node: every piece of it redacted.
    const through = await postChat(`${server.url}/api/v1`, request);
    expect(through.status).toBe(200);
    expect(through.body).not.toContain(key);
    expect(contentOf(through.frames)).toBe(shown);
    expect(through.frames.some((f) => f.choices?.[0]?.finish_reason === 'stop')).toBe(true);
    expect(through.data.at(-1)).toBe('[DONE]');

    // And in the page. The body it gets is read on its way (Chromium does
    // not always keep a streamed fetch body for `response.text()`).
    const bodies: string[] = [];
    await page.route('**/api/v1/chat/completions', async (route) => {
      const response = await route.fetch();
      bodies.push(await response.text());
      await route.fulfill({ response });
    });
    await chooseModel(page, LiteLLM.models.echoKey);
    await chat.send('My key?');
    const reply = await chat.lastReplyDone();
    await expect(reply.locator('.text')).toHaveText(shown);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('[redacted]');
    expect(bodies[0]).not.toContain(key);
    const everything = async () => JSON.stringify(await storage(page)) + (await page.evaluate(() => document.documentElement.outerHTML));
    expect(await everything()).not.toContain(key);
    // Stored replies are compressed, so a missing key in localStorage's
    // text proves little; what the page reads back from it does.
    await expectSavedAfterReload(chat, page, ['My key?']);
    await expect(chat.replies.last().locator('.text')).toHaveText(shown);
    expect(await everything()).not.toContain(key);
  });

  test("LiteLLM's 429 shows a rate-limited reply and keeps the message", async ({ chat, page }) => {
    await chooseModel(page, LiteLLM.models.rateLimited);
    await chat.send('Are you busy?');
    // Only what stays true once 429s are retried automatically with a
    // countdown (being added): the reply mentions the rate limit, at once
    // as an error or as the countdown before the next attempt.
    await expect(chat.replies.last()).toContainText(/rate limited/i);
    await expect(chat.userMessages).toHaveText(['Are you busy?']);
    await expectSavedAfterReload(chat, page, ['Are you busy?']);
  });

  test("LiteLLM's 500 shows a server-problem error with Retry and keeps the message", async ({ chat, page }) => {
    await chooseModel(page, LiteLLM.models.serverError);
    await chat.send('Is the server well?');
    const failed = await chat.lastReplyDone('error');
    await expect(failed.getByRole('alert')).toContainText('HTTP 500');
    await expect(failed.getByRole('alert')).toContainText(/server had a problem/i);
    await expect(failed.getByRole('alert')).toContainText('InternalServerError');
    await expect(failed.getByRole('button', { name: 'Retry' })).toBeVisible();
    await expectSavedAfterReload(chat, page, ['Is the server well?']);
    await expect(chat.replies.last()).toHaveAttribute('data-status', 'error');
  });
});

test.describe("LiteLLM as the page's own endpoint", () => {
  // A keyless LiteLLM gateway (it would hold the provider keys itself):
  // the page talks to it directly, cross-origin, with no key of its own.
  const litellm = new LiteLLM({ keyless: true });
  test.beforeAll(async () => litellm.start());
  test.afterAll(async () => litellm.stop());

  async function useEndpoint(page: Page, model: string) {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Endpoint base URL').fill(litellm.v1);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await chooseModel(page, model);
  }

  test('a streamed two-turn chat straight to LiteLLM', async ({ chat, page }) => {
    await useEndpoint(page, LiteLLM.models.normal);
    await chat.send('Hello directly');
    await expect((await chat.lastReplyDone()).locator('.text')).toHaveText(LiteLLM.reply);
    const second = page.waitForRequest((r) => r.url() === `${litellm.v1}/chat/completions`);
    await chat.send('Once more');
    const body = (await second).postDataJSON();
    expect(body.messages).toEqual([
      { role: 'user', content: 'Hello directly' },
      { role: 'assistant', content: LiteLLM.reply },
      { role: 'user', content: 'Once more' },
    ]);
    await expect((await chat.lastReplyDone()).locator('.text')).toHaveText(LiteLLM.reply);
    await expectSavedAfterReload(chat, page, ['Hello directly', 'Once more']);
  });

  test("its 429 and 500 mocks give the right messages, the text kept", async ({ chat, page }) => {
    await useEndpoint(page, LiteLLM.models.serverError);
    await chat.send('Break, please');
    const failed = await chat.lastReplyDone('error');
    await expect(failed.getByRole('alert')).toContainText('HTTP 500');
    await expect(failed.getByRole('alert')).toContainText('server had a problem');

    await chooseModel(page, LiteLLM.models.rateLimited);
    await chat.send('Slow down?');
    // Retried by itself with backoff (1, 2, 4 s), then shown as an error.
    await expect(page.locator('.countdown')).toContainText('rate limited');
    const limited = await chat.lastReplyDone('error');
    await expect(limited.getByRole('alert')).toContainText('HTTP 429');
    await expect(limited.getByRole('alert')).toContainText('rate limited');
    await expectSavedAfterReload(chat, page, ['Break, please', 'Slow down?']);
  });
});

test.describe('llmock behind confab-proxy', () => {
  // A small pause between chunks, so a reply is seen streaming.
  const llmock = new Llmock({ responseStyle: 'echo', chunkDelayMs: 40 });
  test.beforeAll(async () => llmock.start());
  test.afterAll(async () => llmock.stop());
  // Each test scripts its own faults; nothing queued may leak into the next.
  test.beforeEach(async () => llmock.reset());
  test.use({
    upstreamUrl: async ({}, use) => use(llmock.v1),
    upstreamKey: 'sk-llmock-not-checked',
    // The page names no model; confab-proxy fills this one in.
    defaultModel: 'gpt-4o-mini',
  });

  const message = 'one two three four five six seven eight nine ten';
  const echoed = `Hello! You said: ${message}`;

  /** The chat-completions requests llmock received. */
  const completions = async () => (await llmock.requests()).filter((r) => r.path === '/v1/chat/completions');

  test('a normal streamed reply', async ({ chat, page }) => {
    await chat.send(message);
    const streaming = page.locator('[data-role="assistant"][data-status="streaming"] .text');
    await expect(streaming).not.toHaveText('');
    const reply = await chat.lastReplyDone();
    await expect(reply.locator('.text')).toHaveText(echoed);
    await expect(reply.locator('.author .name')).toHaveText('gpt-4o-mini');
    const [received] = await completions();
    expect(received.stream).toBe(true);
    expect(received.completed).toBe(true);
    expect(received.model).toBe('gpt-4o-mini');
    expect(received.body?.messages?.at(-1)).toEqual({ role: 'user', content: message });
  });

  for (const kind of ['truncate', 'disconnect'] as const) {
    // A truncated stream ends with no finish reason and no [DONE]; a
    // disconnect reaches the page as confab-proxy's `upstream_unreachable`
    // error frame. Both are a reply cut off, not refused.
    test(`a ${kind} stream fault leaves the reply interrupted with its partial text`, async ({ chat, page }) => {
      // Four chunks: the role, then "Hello! ", "You ", "said: ".
      await llmock.scenario([{ type: 'stream_fault', kind, after_chunks: 4 }]);
      await chat.send(message);
      const reply = await chat.lastReplyDone('interrupted');
      const kept = ((await reply.locator('.text').textContent()) ?? '').trim();
      expect(kept).toContain('Hello!');
      expect(echoed.startsWith(kept)).toBe(true);
      expect(kept.length).toBeLessThan(echoed.length);
      await expect(reply.getByRole('alert')).toContainText(/connection broke/i);
      await expect(reply.getByRole('button', { name: 'Retry' })).toBeVisible();
      await expect(reply.getByRole('button', { name: 'Continue' })).toBeVisible();
      const [received] = await completions();
      expect(received.fault).toBe(`stream:${kind}@4`);
      expect(received.completed).toBe(false);

      // Saved as interrupted, partial text and all.
      await expectSavedAfterReload(chat, page, [message]);
      await expect(chat.replies.last()).toHaveAttribute('data-status', 'interrupted');
      await expect(chat.replies.last().locator('.text')).toHaveText(kept);

      // Retry gets the whole reply (the fault was for one request only).
      await chat.replies.last().getByRole('button', { name: 'Retry' }).click();
      await expect((await chat.lastReplyDone()).locator('.text')).toHaveText(echoed);
    });
  }

  test('a malformed chunk shows an error with a message', async ({ chat }) => {
    await llmock.scenario([{ type: 'stream_fault', kind: 'malformed', after_chunks: 2 }]);
    await chat.send(message);
    const reply = await chat.lastReplyDone('error');
    await expect(reply.getByRole('alert')).toContainText(/could not be read/i);
    await expect(reply.getByRole('button', { name: 'Retry' })).toBeVisible();
    // What arrived before the broken chunk stays, nothing after it.
    await expect(reply.locator('.text')).toHaveText('Hello!');
    await expect(chat.userMessages).toHaveText([message]);
    expect((await completions())[0].fault).toBe('stream:malformed@2');
  });

  test('a 429 with Retry-After reaches the page, which says it is rate limited', async ({ chat, page }) => {
    // Three in a row, so a client that retries after Retry-After (2 s) still
    // shows the rate limit for a while rather than a reply at once.
    const limited = { type: 'fail', status: 429, retry_after: 2 };
    await llmock.scenario([limited, limited, limited]);
    const response = page.waitForResponse((r) => r.url().endsWith('/api/v1/chat/completions'));
    await chat.send(message);
    const answer = await response;
    expect(answer.status()).toBe(429);
    // Same origin: the page can read Retry-After, which confab-proxy passes on.
    expect(answer.headers()['retry-after']).toBe('2');
    await expect(chat.replies.last()).toContainText(/rate limited/i);
    await expect(chat.userMessages).toHaveText([message]);
    const [received] = await completions();
    expect(received.status).toBe(429);
    expect(received.retry_after).toBe(2);
    await expectSavedAfterReload(chat, page, [message]);
  });
});
