// Issue 19, the page as people read it: message actions on hover/focus on a
// desktop and always on touch or narrow screens, every icon button named,
// the header's chip naming (and choosing) who answers, a new chat's welcome
// and starter prompts, the header menu on narrow screens, no layout shift
// while a long reply streams, and axe-core on each of these screens.
import { test, expect, expectAccessible, type ChatPage } from './fixtures';
import { scriptedTest } from './scripted-upstream';
import type { Locator, Page } from '@playwright/test';

async function exchange(chat: ChatPage, text: string): Promise<Locator> {
  await chat.send(text);
  return chat.lastReplyDone();
}

const opacity = (locator: Locator) => locator.evaluate((el) => Number(getComputedStyle(el).opacity));

test.describe('desktop (a mouse, a wide window)', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test('actions are hidden until the message is hovered or focused, and every icon button is named', async ({ chat, page }) => {
    await exchange(chat, 'first question');
    await exchange(chat, 'second question');
    const first = chat.replies.first();
    await page.mouse.move(5, 795);
    const copy = first.getByRole('button', { name: 'Copy' });
    await expect.poll(() => opacity(copy)).toBe(0);
    await expect.poll(() => opacity(first.locator('.author'))).toBe(0);
    // Still in the accessibility tree, with its name.
    await expect(copy).toHaveAccessibleName('Copy');

    await first.hover();
    await expect.poll(() => opacity(copy)).toBe(1);
    await expect(first.locator('.author')).toContainText('confab-echo');
    await expect.poll(() => opacity(first.locator('.author'))).toBe(1);

    await page.mouse.move(5, 795);
    await expect.poll(() => opacity(copy)).toBe(0);
    await copy.focus();
    await expect.poll(() => opacity(copy)).toBe(1);

    // One row of icon buttons: each has an accessible name and the same
    // text as its tooltip.
    const buttons = page.locator('.message .actions > button');
    expect(await buttons.count()).toBeGreaterThanOrEqual(8);
    for (const button of await buttons.all()) {
      const name = await button.getAttribute('aria-label');
      expect(name, await button.evaluate((b) => b.outerHTML)).toBeTruthy();
      expect(await button.getAttribute('title')).toContain(name!.split(' (')[0]);
    }
    const user = chat.page.locator('.message[data-role="user"]').first();
    await expect(user.getByRole('button', { name: 'Edit' })).toHaveCount(1);
    await expect(first.getByRole('button', { name: 'Good reply' })).toHaveCount(1);
    await expect(first.getByRole('button', { name: 'Branch from here' })).toHaveCount(1);

    // A rating is recorded by the thumb; the comment field opens only when asked.
    await first.hover();
    await first.getByRole('button', { name: 'Good reply' }).click();
    await expect(first.getByText('You rated this reply as good.')).toBeVisible();
    await expect(first.getByLabel('Comment (optional)')).toHaveCount(0);
    await first.getByRole('button', { name: 'Add a comment' }).click();
    await first.getByLabel('Comment (optional)').fill('Clear');
    await first.getByRole('button', { name: 'Send feedback' }).click();
    await expect(first.getByText('You rated this reply as good: “Clear”')).toBeVisible();
    // The given rating stays shown without hovering.
    await page.mouse.move(5, 795);
    await expect.poll(() => opacity(first.getByRole('button', { name: 'Good reply' }))).toBe(1);
    await expectAccessible(page, 'chat with the actions shown');
  });

  test('Branch from here: a new conversation with the messages up to that reply', async ({ chat, page }) => {
    await exchange(chat, 'where we part');
    await exchange(chat, 'only in the original');
    const first = chat.replies.first();
    await first.hover();
    await first.getByRole('button', { name: 'Branch from here' }).click();
    await expect(chat.userMessages).toHaveText(['where we part']);
    await expect(chat.replies).toHaveCount(1);
    await expect(page.locator('.branched-from')).toContainText('Branched from');
    await expect(chat.sessionButtons).toHaveCount(2);
  });

  test('a new chat welcomes with who answers, and a starter prompt fills the box', async ({ chat, page }) => {
    const welcome = page.locator('.welcome');
    await expect(welcome.getByRole('heading')).toHaveText('Chat with confab-echo');
    const starters = welcome.getByRole('list', { name: 'Starter prompts' }).getByRole('button');
    await expect(starters).toHaveCount(4);
    const prompt = (await starters.nth(1).textContent())!.trim();
    await starters.nth(1).click();
    await expect(chat.box).toHaveValue(prompt);
    await expect(chat.box).toBeFocused();
    await expectAccessible(page, 'empty new chat');

    // Editable in Settings; one per line.
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel(/Starter prompts/).fill('Plan my week\nTranslate this into French');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(starters).toHaveText(['Plan my week', 'Translate this into French']);
    await page.reload();
    await expect(starters).toHaveText(['Plan my week', 'Translate this into French']);
  });

  test('the header chip names the model before the first message, and switches it in one click', async ({ chat, page }) => {
    const chip = page.getByRole('button', { name: /^Answered by confab-echo/ });
    await expect(chip).toHaveText(/confab-echo/);
    await chip.click();
    const menu = page.getByRole('menu', { name: 'Answered by' });
    await expect(menu.getByRole('menuitemradio', { name: 'confab-echo-think' })).toBeVisible();
    await expectAccessible(page, 'the model menu open');
    await menu.getByRole('menuitemradio', { name: 'confab-echo-think' }).click();
    await expect(menu).toBeHidden();
    await expect(page.getByRole('button', { name: /^Answered by confab-echo-think/ })).toBeFocused();

    // The first message is answered by the model chosen before it.
    const reply = await exchange(chat, 'which model are you?');
    await expect(reply.locator('.author .name')).toHaveText('confab-echo-think');
    // In an open conversation, the same choice as Details → "Answered by".
    await page.getByRole('button', { name: /^Answered by confab-echo-think/ }).click();
    await page.getByRole('menuitemradio', { name: 'confab-echo', exact: true }).click();
    const second = await exchange(chat, 'and now?');
    await expect(second.locator('.author .name')).toHaveText('confab-echo');
    await page.getByRole('button', { name: 'Details' }).click();
    await expect(page.getByLabel('Model for this conversation')).toHaveValue('confab-echo');
    // Escape closes the menu and gives focus back to the chip.
    const chipNow = page.getByRole('button', { name: /^Answered by confab-echo/ });
    await chipNow.click();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('menu', { name: 'Answered by' })).toBeHidden();
    await expect(chipNow).toBeFocused();
  });
});

test.describe('touch screen', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('actions always show; Details, End conversation and Settings sit in the header menu', async ({ chat, page }) => {
    const reply = await exchange(chat, 'on a phone');
    await expect.poll(() => opacity(reply.getByRole('button', { name: 'Copy' }))).toBe(1);
    await expect.poll(() => opacity(reply.locator('.author'))).toBe(1);
    const settings = page.getByRole('button', { name: 'Settings' });
    await expect(settings).toBeHidden();
    const more = page.getByRole('button', { name: 'More actions' });
    await more.tap();
    await expect(more).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('button', { name: 'Details' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'End conversation' })).toBeVisible();
    await expectAccessible(page, 'narrow header menu open');
    await settings.tap();
    await expect(page.getByRole('dialog', { name: 'Settings' })).toBeVisible();
    await expect(settings).toBeHidden();
  });
});

test.describe('a narrow desktop window', () => {
  test.use({ viewport: { width: 600, height: 800 } });

  test('actions always show', async ({ chat, page }) => {
    const reply = await exchange(chat, 'in a narrow window');
    await page.mouse.move(5, 795);
    await expect.poll(() => opacity(reply.getByRole('button', { name: 'Copy' }))).toBe(1);
  });
});

/** Sums the page's layout shifts (not those right after input) from now on. */
async function watchLayoutShift(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as unknown as { __shift: number; __shifted: string[] };
    w.__shift = 0;
    w.__shifted = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as {
        value: number;
        hadRecentInput: boolean;
        sources: { node?: Element; previousRect: DOMRectReadOnly; currentRect: DOMRectReadOnly }[];
      }[]) {
        if (entry.hadRecentInput) continue;
        w.__shift += entry.value;
        // What moved, for the failure message.
        for (const source of entry.sources ?? []) {
          const [a, b] = [source.previousRect, source.currentRect];
          w.__shifted.push(
            `at ${Math.round((entry as unknown as PerformanceEntry).startTime)} ms: ${source.node?.outerHTML.slice(0, 80) ?? '?'} from ${a.x},${a.y} ${a.width}x${a.height} to ${b.x},${b.y} ${b.width}x${b.height}`,
          );
        }
      }
    }).observe({ type: 'layout-shift' });
  });
  return () =>
    page.evaluate(() => {
      const w = window as unknown as { __shift: number; __shifted: string[] };
      return { shift: w.__shift, shifted: w.__shifted };
    });
}

scriptedTest.describe('streaming', () => {
  scriptedTest.use({ viewport: { width: 1280, height: 800 } });

  scriptedTest('a long reply streams with no layout shift, from the send to its end', async ({ chat, page, upstream }) => {
    // Earlier messages that scroll out of view as the reply grows.
    for (const text of ['warm up', 'a second question', 'a third question']) await exchange(chat, text);
    const paragraphs = Array.from(
      { length: 40 },
      (_, i) => `Paragraph ${i + 1}: ${'a sentence of the long reply, '.repeat(6)}with \`code\` and **bold** text.`,
    );
    upstream.script = [{ kind: 'reply', text: `# A long reply\n\n${paragraphs.join('\n\n')}\n\n- one\n- two`, delayMs: 2 }];
    const shift = await watchLayoutShift(page);
    await chat.send('Write something long');
    await expect(chat.replies.last()).toHaveAttribute('data-status', 'complete', { timeout: 60_000 });
    await page.waitForTimeout(300);
    const { shift: total, shifted } = await shift();
    expect(total, `layout shifts of: ${shifted.join('\n')}`).toBe(0);
  });
});
