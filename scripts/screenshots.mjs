// Screenshots of the main views for the README (docs/*.png: light, dark,
// narrow, an empty new chat, a reply with reasoning and attachments): the release
// build served by confab-proxy with its offline model, driven by Playwright
// in Debian's Chromium. Run by scripts/screenshots.sh.
import { chromium } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM_ARGS, CHROMIUM_PATH, startProxy, stopChild } from '../tests/bench/common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const docs = path.join(root, 'docs');


async function send(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await page.locator('[data-role="assistant"]').last().locator('xpath=self::*[@data-status="complete"]').waitFor();
}

/** A page with three conversations, one pinned, the last one open. */
async function prepared(browser, url, viewport, theme) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: theme });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  await send(page, 'Plan a weekend in Lisbon');
  await page.keyboard.press('Control+Shift+O');
  await send(page, 'Summarise the notes from Monday');
  await page.keyboard.press('Control+Shift+O');
  await send(page, 'How do I keep basil alive indoors?');
  await send(page, 'And how often should I water it?');
  // Pin the first conversation, to show the Pinned group.
  const first = page.locator('.sidebar li.entry').filter({ hasText: 'Lisbon' });
  if (await first.isVisible()) {
    await first.getByRole('button', { name: /^Options for/ }).click();
    await first.getByRole('button', { name: 'Pin', exact: true }).click();
  }
  return { context, page };
}

const { child, url } = await startProxy(null, { echoTokenDelayMs: 1 });
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: CHROMIUM_ARGS,
});
try {
  for (const theme of ['light', 'dark']) {
    const { context, page } = await prepared(browser, url, { width: 1100, height: 680 }, theme);
    await page.locator('section.messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    // The actions of the message under the mouse.
    await page.locator('[data-role="assistant"]').last().hover();
    await page.screenshot({ path: path.join(docs, `screenshot-${theme}.png`) });
    await context.close();
  }
  {
    // An empty new chat: the welcome and the starter prompts.
    const context = await browser.newContext({ viewport: { width: 1100, height: 680 }, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('.welcome li').first().waitFor();
    await page.screenshot({ path: path.join(docs, 'screenshot-new-chat.png') });
    // A reply with reasoning (the offline thinking model, chosen in the
    // header), and a message with attachments.
    await page.getByRole('button', { name: /^Answered by/ }).click();
    await page.getByRole('menuitemradio', { name: 'confab-echo-think' }).click();
    await page.locator('input[name="attach-files"]').setInputFiles([
      { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from('month,units\nJan,120\nFeb,135\nMar,150\n') },
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n- call Ana\n') },
    ]);
    await page.locator('.pending-attachments .attachment').nth(1).waitFor();
    await send(page, 'What stands out in these sales figures?');
    await page.locator('[data-role="assistant"] details.reasoning').first().waitFor();
    await page.locator('section.messages').evaluate((el) => el.scrollTo(0, 0));
    await page.locator('[data-role="user"]').last().hover();
    await page.screenshot({ path: path.join(docs, 'screenshot-reply.png') });
    await context.close();
  }
  const { context, page } = await prepared(browser, url, { width: 360, height: 740 }, 'light');
  await page.getByRole('button', { name: 'Conversations menu' }).click();
  await page.locator('.sidebar').waitFor({ state: 'visible' });
  await page.waitForTimeout(300); // the drawer's slide-in
  await page.screenshot({ path: path.join(docs, 'screenshot-narrow.png') });
  await context.close();
} finally {
  await browser.close();
  await stopChild(child);
}
