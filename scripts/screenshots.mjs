// Screenshots of the main views for the README (docs/*.png: light, dark,
// narrow, an empty new chat, a reply with reasoning and attachments): the release
// build served by confab-proxy with its offline model, driven by Playwright
// in Debian's Chromium. Run by scripts/screenshots.sh.
import { chromium } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  startProxy,
  startUpstream,
  stopChild,
  stopServer,
} from '../tests/bench/common.mjs';

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

/** A reply from a reasoning model (its thinking in <think>) with code. */
const REPLY_WITH_CODE = [
  '<think>',
  'The CSV has a month column and a units column; ',
  'a line chart of units by month answers it. ',
  'matplotlib is the usual choice.',
  '</think>',
  'Here is a short script that reads **sales.csv** and plots the units per month:\n\n',
  '```python\n',
  'import csv\n',
  'import matplotlib.pyplot as plt\n\n',
  'with open("sales.csv") as f:\n',
  '    rows = list(csv.DictReader(f))\n\n',
  'months = [r["month"] for r in rows]\n',
  'units = [int(r["units"]) for r in rows]\n',
  'plt.plot(months, units, marker="o")\n',
  'plt.title("Units per month")\n',
  'plt.show()\n',
  '```\n\n',
  'Units grow by about 12% a month, from 120 in January to 150 in March.',
];

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
    await context.close();
  }
  {
    // A reply with reasoning and code under a message with files: a local
    // OpenAI-style server behind a second confab-proxy streams it.
    const upstream = await startUpstream(REPLY_WITH_CODE, { delayMs: 1, perTick: 4 });
    const second = await startProxy(`http://127.0.0.1:${upstream.address().port}/v1`);
    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, deviceScaleFactor: 1, colorScheme: 'light' });
    try {
      const page = await context.newPage();
      await page.goto(second.url);
      await page.getByRole('textbox', { name: 'Message' }).waitFor();
      await page.locator('input[name="attach-files"]').setInputFiles([
        { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from('month,units\nJan,120\nFeb,135\nMar,150\n') },
        { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n- call Ana\n') },
      ]);
      await page.locator('.pending-attachments .attachment').nth(1).waitFor();
      await send(page, 'Plot the monthly units from these files');
      await page.locator('[data-role="assistant"] details.reasoning').first().waitFor();
      await page.locator('[data-role="assistant"] figure.code [data-hl="done"], [data-role="assistant"] pre code').first().waitFor();
      await page.waitForTimeout(500); // highlighting, from the worker
      await page.locator('section.messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.locator('[data-role="assistant"]').last().hover();
      await page.screenshot({ path: path.join(docs, 'screenshot-reply.png') });
    } finally {
      await context.close();
      await stopChild(second.child);
      await stopServer(upstream);
    }
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
