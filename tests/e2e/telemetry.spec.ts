// Trace export as OTLP/HTTP JSON through confab-proxy's same-origin relay to
// a real receiver (rotel), which decodes what it gets; and a collector that
// is away, which must not disturb the chat.
import { test, expect, Rotel, ChatPage, freePort, type ReceivedSpan } from './fixtures';
import type { Page } from '@playwright/test';

async function turnExportOn(page: Page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await settings.getByLabel(/Trace export URL/).fill('/otlp');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden();
}

test.describe('with a real OTLP receiver', () => {
  const rotel = new Rotel();
  test.beforeAll(async () => rotel.start());
  test.afterAll(async () => rotel.stop());
  test.use({ otlpUrl: async ({}, use) => use(rotel.url) });

  test('spans of a conversation arrive decoded, linked and with GenAI attributes', async ({ chat, page }) => {
    await turnExportOn(page);
    await chat.send('Plan a trip to Kyoto');
    const reply = await chat.lastReplyDone();
    // The thumb records the rating; the comment, asked for, records it again with it.
    await reply.getByRole('button', { name: 'Bad reply' }).click();
    await reply.getByRole('button', { name: 'Add a comment' }).click();
    await reply.getByLabel('Comment (optional)').fill('Too vague');
    await reply.getByRole('button', { name: 'Send feedback' }).click();
    await page.getByRole('button', { name: 'Details' }).click();
    const conversationId = ((await page.locator('[data-fact="conversation-id"]').textContent()) ?? '').trim();
    const sessionId = ((await page.locator('[data-fact="session-id"]').textContent()) ?? '').trim();
    await page.getByRole('button', { name: 'End conversation' }).click();
    const dialog = page.getByRole('dialog', { name: 'End conversation' });
    await dialog.getByLabel('Not satisfied').check();
    await dialog.getByRole('button', { name: 'End conversation' }).click();

    let spans: ReceivedSpan[] = [];
    await expect
      .poll(() => {
        spans = rotel.spans().filter((s) => s.attributes['gen_ai.conversation.id'] === `Str(${conversationId})`);
        return spans.map((s) => s.name).sort();
      }, { timeout: 20_000 })
      .toEqual(['chat confab-echo', 'conversation', 'feedback', 'feedback', 'user_query_1']);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const root = byName['conversation'];
    const query = byName['user_query_1'];
    const call = byName['chat confab-echo'];
    // Of the two feedback spans (the thumb, then the comment), the one with the comment.
    const feedback = spans.find((s) => s.name === 'feedback' && s.attributes['confab.feedback.comment'] === 'Str(Too vague)')!;
    expect(spans.filter((s) => s.name === 'feedback').map((s) => s.attributes['confab.feedback.rating'])).toEqual(['Str(down)', 'Str(down)']);

    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const span of spans) {
      expect(span.traceId).toBe(root.traceId);
      expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(root.parentId).toBe('');
    expect(query.parentId).toBe(root.spanId);
    expect(call.parentId).toBe(query.spanId);
    expect(feedback.parentId).toBe(query.spanId);

    expect(root.attributes['session.id']).toBe(`Str(${sessionId})`);
    expect(root.attributes['user.id']).toBe('Str(local)');
    expect(root.attributes['confab.conversation.feedback']).toBe('Str(not_satisfied)');
    expect(root.attributes['confab.conversation.total_queries']).toBe('Int(1)');
    expect(query.attributes['confab.query.input']).toBe('Str(Plan a trip to Kyoto)');
    expect(query.attributes['confab.query.number']).toBe('Int(1)');
    expect(call.kind).toBe('SPAN_KIND_CLIENT');
    expect(call.status).toBe('STATUS_CODE_OK');
    expect(call.attributes['gen_ai.operation.name']).toBe('Str(chat)');
    expect(call.attributes['gen_ai.request.model']).toBe('Str((proxy default))');
    expect(call.attributes['gen_ai.response.model']).toBe('Str(confab-echo)');
    expect(call.attributes['gen_ai.usage.input_tokens']).toMatch(/^Int\(\d+\)$/);
    expect(call.attributes['gen_ai.usage.output_tokens']).toMatch(/^Int\([1-9]\d*\)$/);
    expect(feedback.attributes['confab.feedback.rating']).toBe('Str(down)');
    expect(feedback.attributes['confab.feedback.comment']).toBe('Str(Too vague)');

    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.locator('.export-status')).toContainText(/Traces: [1-9]\d* spans exported/);
  });
});

test.describe('with the collector away', () => {
  // A port nothing listens on: every export fails with a 502 from the relay.
  test.use({ otlpUrl: async ({}, use) => use(`http://127.0.0.1:${await freePort()}`) });

  test('the chat goes on and the failure is only a quiet status', async ({ chat, page }) => {
    await turnExportOn(page);
    await chat.send('Hello');
    await chat.lastReplyDone();
    await chat.send('Hello again');
    await expect(await chat.lastReplyDone()).toContainText('turn 2');
    await expect(page.getByRole('alert')).toHaveCount(0);
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.locator('.export-status')).toContainText('last problem: HTTP 502', { timeout: 20_000 });
    await expect(page.locator('.export-status')).toContainText('0 spans exported');
  });
});
