// Highlighted code and math in replies, in real Chromium through
// confab-proxy and a scripted upstream: the render worker is fetched only
// once a reply has a code block, tokens are coloured differently in both
// themes, Copy copies the plain text, formulas become MathML (prices stay
// text, a broken or hostile formula shows its source, nothing hangs), and
// the page stays accessible.
import { expect, expectAccessible, type ChatPage } from './fixtures';
import { scriptedTest as test } from './scripted-upstream';
import type { Locator } from '@playwright/test';

/** Waits until the worker has answered for every code block and formula in `md`. */
async function enhanced(md: Locator): Promise<void> {
  await expect(md.locator('[data-hl="pending"], [data-math="pending"]')).toHaveCount(0);
}

async function ask(chat: ChatPage, text: string): Promise<Locator> {
  await chat.send(text);
  const reply = await chat.lastReplyDone();
  const md = reply.locator('.text.markdown');
  await enhanced(md);
  return md;
}

const RUST = 'fn main() {\n    // greet\n    let name = "world";\n    println!("hi {name}", 42);\n}\n';
const PYTHON = 'def area(r: float) -> float:\n    """Circle."""\n    return 3.14 * r ** 2  # approx\n';
const JSON_SOURCE = '{"name": "confab", "size": 4.5, "ok": true}\n';
const SHELL = 'if [ -n "$HOME" ]; then\n  echo "home" # note\nfi\n';
const DIFF = '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n';
const SQL = "SELECT id FROM users WHERE name = 'ada'; -- one\n";
const CODE_REPLY = [
  'Here is code in several languages.',
  '',
  '```rust', RUST + '```',
  '',
  '```python', PYTHON + '```',
  '',
  '```json', JSON_SOURCE + '```',
  '',
  '```bash', SHELL + '```',
  '',
  '```diff', DIFF + '```',
  '',
  '```sql', SQL + '```',
  '',
  '```', 'no language: stays plain\n```',
  '',
  '```cobol', 'DISPLAY "unknown".\n```',
  '',
  'Done.',
].join('\n');

/** The computed colour of the first token of each kind in `md`. */
async function tokenColours(md: Locator): Promise<Record<string, string>> {
  return md.evaluate((el) => {
    const colours: Record<string, string> = {};
    for (const kind of ['keyword', 'string', 'comment', 'number', 'function', 'property', 'inserted', 'deleted']) {
      const token = el.querySelector(`pre code .tok-${kind}`);
      if (token) colours[kind] = getComputedStyle(token).color;
    }
    return colours;
  });
}

test('the render worker is fetched only once a reply has a code block', async ({ chat, page, upstream }) => {
  const fetched: string[] = [];
  page.context().on('request', (request) => {
    if (request.url().includes('confab-render-worker')) fetched.push(new URL(request.url()).pathname);
  });
  const workers: string[] = [];
  page.on('worker', (worker) => workers.push(worker.url()));
  upstream.script = [
    { kind: 'reply', text: 'Plain prose, a list:\n\n- one\n- two\n\nand `inline code`, but no block.' },
    { kind: 'reply', text: 'Now a block:\n\n```rust\nfn main() {}\n```\n' },
  ];
  await ask(chat, 'no code please');
  await page.waitForTimeout(500);
  expect(fetched).toEqual([]);
  expect(workers).toEqual([]);

  const md = await ask(chat, 'some code');
  await expect(md.locator('pre code .tok-keyword')).toHaveText(['fn']);
  expect(workers).toHaveLength(1);
  expect(fetched).toEqual(expect.arrayContaining(['/confab-render-worker_loader.js', '/confab-render-worker.js', '/confab-render-worker_bg.wasm']));
});

test('code in several languages is highlighted in both themes; unknown stays plain; Copy copies the plain text', async ({ chat, page, upstream, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.emulateMedia({ colorScheme: 'light' });
  upstream.script = [{ kind: 'reply', text: CODE_REPLY, chunkChars: 7, delayMs: 5 }];
  const md = await ask(chat, 'code please');
  const blocks = md.locator('figure.code');
  await expect(blocks).toHaveCount(8);
  const languages = ['rust', 'python', 'json', 'bash', 'diff', 'sql'];
  for (const [i, language] of languages.entries()) {
    const code = blocks.nth(i).locator('pre code');
    await expect(code).toHaveAttribute('data-hl', 'done');
    expect(await code.locator('span').count(), language).toBeGreaterThan(1);
  }
  const rust = blocks.nth(0).locator('pre code');
  expect(await rust.textContent()).toBe(RUST);
  await expect(rust.locator('.tok-keyword').first()).toHaveText('fn');
  await expect(rust.locator('.tok-comment')).toHaveText(['// greet']);
  await expect(rust.locator('.tok-string').first()).toHaveText('"world"');
  await expect(rust.locator('.tok-function')).toHaveText(['main', 'println!']);
  await expect(blocks.nth(2).locator('.tok-property').first()).toHaveText('"name"');
  await expect(blocks.nth(4).locator('.tok-inserted')).toHaveText(['+new']);
  await expect(blocks.nth(4).locator('.tok-deleted')).toHaveText(['-old']);
  // No language, or one the tokenizer does not know: plain text, no request.
  await expect(blocks.nth(6).locator('pre code span')).toHaveCount(0);
  await expect(blocks.nth(6).locator('pre code')).not.toHaveAttribute('data-hl', /.*/);
  await expect(blocks.nth(7).locator('pre code')).toHaveAttribute('data-hl', 'done');
  await expect(blocks.nth(7).locator('pre code span')).toHaveCount(0);
  await expect(blocks.nth(7).locator('pre code')).toHaveText('DISPLAY "unknown".\n');

  const light = await tokenColours(md);
  expect(new Set(Object.values(light)).size, JSON.stringify(light)).toBeGreaterThanOrEqual(6);
  expect(light.keyword).not.toBe(light.string);
  expect(light.keyword).not.toBe(light.comment);
  expect(light.string).not.toBe(light.comment);
  await expectAccessible(page, 'light theme, highlighted code');

  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(async () => (await tokenColours(md)).keyword).not.toBe(light.keyword);
  const dark = await tokenColours(md);
  expect(new Set(Object.values(dark)).size, JSON.stringify(dark)).toBeGreaterThanOrEqual(6);
  for (const kind of Object.keys(light)) expect(dark[kind], kind).not.toBe(light[kind]);
  await expectAccessible(page, 'dark theme, highlighted code');

  await blocks.nth(1).getByRole('button', { name: 'Copy' }).click();
  await expect(blocks.nth(1).getByRole('button')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(PYTHON);
});

const MATH_REPLY = [
  'Inline $\\frac{a}{b}$ and \\(x^2 + y_1\\), with prices: it costs $5 and $10, or $20.',
  '',
  '$$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$$',
  '',
  '\\[',
  '\\int_0^1 x^2\\,dx = \\left( \\frac{1}{3} \\right)',
  '\\]',
  '',
  'Broken: $\\frac{a}$ and unknown $\\foo{x}$ and hostile $\\href{javascript:window.__pwned=1}{click}$ end.',
].join('\n');

test('formulas render as MathML; prices stay text; a broken or hostile formula shows its source', async ({ chat, page, upstream }) => {
  upstream.script = [{ kind: 'reply', text: MATH_REPLY, chunkChars: 6, delayMs: 5 }];
  const md = await ask(chat, 'math please');
  const done = md.locator('span.math[data-math="done"]');
  await expect(done).toHaveCount(4);
  await expect(md.locator('span.math[data-display="block"] > math[display="block"]')).toHaveCount(2);
  await expect(md.locator('span.math[data-display="inline"] > math:not([display])')).toHaveCount(2);
  await expect(md.locator('math mfrac').first()).toBeVisible();
  await expect(md.locator('math munderover mo').first()).toHaveText('∑');
  await expect(md.locator('math msubsup mo').first()).toHaveText('∫');
  await expect(md.locator('math annotation[encoding="application/x-tex"]').first()).toHaveText('\\frac{a}{b}');
  // Rendered as a formula, with real height (native MathML).
  const box = await md.locator('math mfrac').first().boundingBox();
  expect(box?.height ?? 0).toBeGreaterThan(15);

  await expect(md.locator('p').first()).toContainText('it costs $5 and $10, or $20.');
  const errors = md.locator('span.math[data-math="error"]');
  await expect(errors).toHaveText(['\\frac{a}', '\\foo{x}', '\\href{javascript:window.__pwned=1}{click}']);
  await expect(md.locator('a')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
  await expectAccessible(page, 'math');
});

test('hostile formulas stay inert and never hang the page: 10,000 nested braces, deep \\over, a 1 MB formula', async ({ chat, page, upstream }) => {
  test.setTimeout(120_000);
  const braces = `$${'{'.repeat(10_000)}x${'}'.repeat(10_000)}$`;
  const over = `$$${'{1 \\over '.repeat(1_000)}1${'}'.repeat(1_000)}$$`;
  const huge = `$$${'x+'.repeat(512 * 1024)}x$$`;
  const attributes = '$\\class{evil}{x} \\style{color:red}{y} \\htmlId{z}{w}$';
  upstream.script = [
    { kind: 'reply', text: `Braces: ${braces} end.`, chunkChars: 4_000, delayMs: 1 },
    { kind: 'reply', text: `Over:\n\n${over}\n\nend.`, chunkChars: 4_000, delayMs: 1 },
    { kind: 'reply', text: `Huge:\n\n${huge}\n\nend.`, chunkChars: 64 * 1024, delayMs: 1 },
    { kind: 'reply', text: `Attributes: ${attributes} end.` },
  ];
  for (const [i, what] of ['braces', 'over', 'huge', 'attributes'].entries()) {
    const md = await ask(chat, `hostile ${what}`);
    await expect(md.locator('span.math'), what).toHaveCount(1);
    await expect(md.locator('span.math'), what).toHaveAttribute('data-math', 'error');
    await expect(md.locator('math'), what).toHaveCount(0);
    // The page still answers at once.
    const started = Date.now();
    await page.evaluate(() => 1);
    expect(Date.now() - started, what).toBeLessThan(1_000);
    await expect(chat.replies).toHaveCount(i + 1);
  }
  const attributesInMath = await page.evaluate(() => document.querySelectorAll('[class="evil"], [id="w"], math [style], math [href]').length);
  expect(attributesInMath).toBe(0);
});
