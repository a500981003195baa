// The sidebar as issue 19 has it: conversations grouped by recency in the
// browser's local time (with Playwright's clock and a time zone west of
// UTC, so a UTC day would put some in the wrong group), pinned ones first,
// ended ones marked in their group; the profile control at its foot and its
// menu (switch, new, rename), by mouse and keyboard, and axe-core with the
// menu open.
import { test, expect, expectAccessible, profileButton, profileMenu, ChatPage } from './fixtures';
import type { Page } from '@playwright/test';

// New York: UTC-4 in October, UTC-5 in December.
test.use({ timezoneId: 'America/New_York' });

/** 14 October 2026, 21:30 in New York: already the 15th in UTC. */
const NOW = new Date('2026-10-15T01:30:00Z');

/** Conversations as index entries only (one key each, as the sidebar lists them), by title and UTC time. */
const SEEDED: [string, string][] = [
  // 14 Oct 01:00 local: today there, yesterday in UTC.
  ['early today', '2026-10-14T05:00:00Z'],
  // 13 Oct 23:00 local: yesterday there, today's date in UTC.
  ['late yesterday', '2026-10-14T03:00:00Z'],
  ['five days ago', '2026-10-09T16:00:00Z'],
  ['seven days ago', '2026-10-07T16:00:00Z'],
  ['eight days ago', '2026-10-06T16:00:00Z'],
  ['thirty days ago', '2026-09-14T16:00:00Z'],
  ['thirty-one days ago', '2026-09-13T16:00:00Z'],
  // 31 Aug 22:00 local: August there, September in UTC.
  ['end of August', '2026-09-01T02:00:00Z'],
  ['mid August', '2026-08-15T16:00:00Z'],
  ['new year eve', '2025-12-31T12:00:00Z'],
];

async function seed(page: Page): Promise<void> {
  await page.evaluate((seeded) => {
    seeded.forEach(([title, at], i) => {
      const id = `seeded-${i}`;
      const summary = { id, appName: 'confab', userId: 'local', title, lastUpdateTime: Date.parse(at) / 1000, eventCount: 2 };
      localStorage.setItem(`confab:entry:confab:local:${id}`, JSON.stringify({ listed: summary }));
    });
  }, SEEDED);
}

async function chatOnce(chat: ChatPage, text: string): Promise<void> {
  await chat.send(text);
  await expect(chat.userMessages.last()).toHaveText(text);
  await chat.lastReplyDone();
}

test('conversations are grouped by recency in local time, pinned first, ended ones marked in their group', async ({ page, server }) => {
  await page.clock.setFixedTime(NOW);
  const chat = new ChatPage(page);
  await chat.goto(server.url);
  await chatOnce(chat, 'pin me');
  await page.getByRole('button', { name: 'New chat' }).click();
  await chatOnce(chat, 'end me');
  await page.getByRole('button', { name: 'End conversation' }).click();
  const dialog = page.getByRole('dialog', { name: 'End conversation' });
  await dialog.getByLabel('Satisfied', { exact: true }).check();
  await dialog.getByRole('button', { name: 'End conversation' }).click();
  await expect(page.getByText('You ended this conversation: satisfied.')).toBeVisible();
  const pinMe = page.locator('.sidebar li.entry').filter({ has: page.locator('.session', { hasText: 'pin me' }) });
  await pinMe.getByRole('button', { name: 'Options for “pin me”' }).click();
  await pinMe.getByRole('button', { name: 'Pin', exact: true }).click();
  await seed(page);
  await page.reload();
  await expect(chat.box).toBeVisible();

  // Empty sections are hidden; the months are headings inside the last one, Older, whose own
  // heading is for screen readers only.
  const groups = chat.sidebar.locator('.groups > section.group:not([hidden])');
  await expect(groups.locator('h2')).toHaveText([
    'Pinned',
    'Today',
    'Yesterday',
    'Previous 7 days',
    'Previous 30 days',
    'Older',
  ]);
  await expect(chat.sidebar.locator('#group-older')).toHaveClass('visually-hidden');
  const months = chat.sidebar.locator('.groups').getByRole('heading', { level: 3 });
  await expect(months).toHaveText(['September 2026', 'August 2026', 'December 2025']);
  for (const month of await months.all()) await expect(month).toBeVisible();
  const group = (name: string) => chat.sidebar.getByRole('region', { name, exact: true }).locator('.session');
  await expect(group('Pinned')).toHaveText(['pin me']);
  await expect(group('Pinned').getByRole('img', { name: 'Pinned' })).toBeVisible();
  await expect(group('Today')).toHaveText(['end me', 'early today']);
  await expect(group('Yesterday')).toHaveText(['late yesterday']);
  await expect(group('Previous 7 days')).toHaveText(['five days ago', 'seven days ago']);
  await expect(group('Previous 30 days')).toHaveText(['eight days ago', 'thirty days ago']);
  // Each month's heading above its first entry. In UTC, "end of August" is on 1 September:
  // the local month counts.
  const older = chat.sidebar.getByRole('region', { name: 'Older', exact: true }).locator('li.entry');
  expect(
    await older.evaluateAll((entries) =>
      entries.map((li) => [li.querySelector('h3')?.textContent ?? '', li.querySelector('.session')?.textContent]),
    ),
  ).toEqual([
    ['September 2026', 'thirty-one days ago'],
    ['August 2026', 'end of August'],
    ['', 'mid August'],
    ['December 2025', 'new year eve'],
  ]);

  // The ended one stays in Today, marked (muted, italic, described as ended).
  const ended = group('Today').filter({ hasText: 'end me' });
  await expect(ended).toHaveAttribute('data-ended', 'true');
  await expect(ended).toHaveAccessibleDescription('Ended');
  await expect(ended).toHaveCSS('font-style', 'italic');
  await expect(group('Today').filter({ hasText: 'early today' })).toHaveAttribute('data-ended', 'false');

  // Each group is a region named by its heading, and the list is not busy any more.
  await expect(chat.sidebar.locator('.groups')).not.toHaveAttribute('aria-busy', 'true');
  await expect(groups.nth(4)).toHaveAttribute('aria-labelledby', 'group-previous-30-days');
});

test('at local midnight, Today becomes Yesterday with nothing else happening', async ({ page, server }) => {
  // 14 October, 23:59:50 in New York; the clock runs on from there.
  await page.clock.install({ time: new Date('2026-10-15T03:59:50Z') });
  const chat = new ChatPage(page);
  await chat.goto(server.url);
  await page.evaluate(() => {
    const summary = { id: 'late', appName: 'confab', userId: 'local', title: 'an hour before midnight', lastUpdateTime: Date.parse('2026-10-15T03:00:00Z') / 1000, eventCount: 2 };
    localStorage.setItem('confab:entry:confab:local:late', JSON.stringify({ listed: summary }));
  });
  await page.reload();
  const group = (name: string) => chat.sidebar.getByRole('region', { name, exact: true }).locator('.session');
  await expect(group('Today')).toHaveText(['an hour before midnight']);
  await expect(group('Yesterday')).toHaveCount(0);
  // Past midnight: the timer the sidebar set for the new day fires.
  await page.clock.fastForward('00:30');
  await expect(group('Yesterday')).toHaveText(['an hour before midnight']);
  await expect(chat.sidebar.locator('#group-today')).toBeHidden();
});

test('the profile control at the foot of the sidebar opens a menu to switch, add and rename profiles', async ({ chat, page }) => {
  const button = profileButton(page);
  await expect(button).toHaveAccessibleName('Profile: Me');
  await expect(button).toHaveAttribute('aria-haspopup', 'menu');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(button.locator('.initial')).toHaveAttribute('data-initial', 'M');
  // At the foot, beside the keyboard shortcuts; New chat and search stay at the top.
  const foot = chat.sidebar.locator('.sidebar-foot');
  await expect(foot.getByRole('button', { name: /^Profile: / })).toBeVisible();
  await expect(foot.getByRole('button', { name: 'Keyboard shortcuts' })).toBeVisible();
  const newChat = (await page.getByRole('button', { name: 'New chat' }).boundingBox())!;
  expect((await button.boundingBox())!.y).toBeGreaterThan(newChat.y + 100);

  // Keyboard: focus goes into the menu, on the active profile; arrows move; Esc closes, focus back on the button.
  await button.focus();
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu', { name: 'Profiles' });
  await expect(menu).toBeVisible();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(menu.getByRole('menuitemradio', { name: 'Me' })).toBeFocused();
  await expect(menu.getByRole('menuitemradio', { name: 'Me' })).toHaveAttribute('aria-checked', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'New profile…' })).toBeFocused();
  await page.keyboard.press('End');
  await expect(menu.getByRole('menuitem', { name: 'Rename profile…' })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitemradio', { name: 'Me' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // A press outside closes it.
  await button.click();
  await expect(menu).toBeVisible();
  await chat.box.click();
  await expect(menu).toHaveCount(0);

  await chatOnce(chat, 'from Me');
  // New profile… opens the dialog; adding switches to it.
  await profileMenu(page, 'New profile…');
  const add = page.getByRole('dialog', { name: 'New profile' });
  await add.getByLabel('Name').fill('bob');
  await add.getByRole('button', { name: 'Add profile' }).click();
  await expect(add).toBeHidden();
  await expect(button).toHaveAccessibleName('Profile: bob');
  await expect(button.locator('.initial')).toHaveAttribute('data-initial', 'b');
  await expect(button.locator('.initial')).toHaveCSS('text-transform', 'uppercase');
  await expect(chat.sessionButtons).toHaveCount(0);

  // With the menu open: both profiles, the active one checked; axe finds nothing serious.
  await button.click();
  await expect(menu.getByRole('menuitemradio')).toHaveText(['Me', 'bob']);
  await expect(menu.getByRole('menuitemradio', { name: 'bob' })).toHaveAttribute('aria-checked', 'true');
  await expect(menu.getByRole('menuitemradio', { name: 'Me' })).toHaveAttribute('aria-checked', 'false');
  await expectAccessible(page, 'sidebar with the profile menu open');
  await menu.getByRole('menuitemradio', { name: 'Me' }).click();
  await expect(menu).toHaveCount(0);
  await expect(button).toBeFocused();
  await expect(button).toHaveAccessibleName('Profile: Me');
  await expect(chat.sessionButtons).toHaveText(['from Me']);

  // Rename profile… opens the dialog with the name filled in.
  await profileMenu(page, 'Rename profile…');
  const rename = page.getByRole('dialog', { name: 'Rename profile' });
  await expect(rename.getByLabel('Name')).toHaveValue('Me');
  await rename.getByLabel('Name').fill('Ada');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(rename).toBeHidden();
  await expect(button).toHaveAccessibleName('Profile: Ada');
  await page.reload();
  await expect(profileButton(page)).toHaveAccessibleName('Profile: Ada');
});
