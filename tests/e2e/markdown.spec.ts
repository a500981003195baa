// Replies rendered as markdown, in real Chromium, through the real streaming
// path: confab-proxy in front of a scripted OpenAI-speaking upstream on
// loopback that cuts each reply into small pieces, so tags and entities
// arrive split across chunks. A hostile corpus (shared with the host tests
// in core/src/markdown/tests.rs) must run no script and leave no handler,
// foreign element or unsafe link in the page, at any point of its stream.
import { expect, ChatPage } from './fixtures';
import { scriptedTest } from './scripted-upstream';
import type { Locator, Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

type Hostile = { name: string; text: string; visible?: string };
const corpus: Hostile[] = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../../core/testdata/hostile-replies.json'), 'utf8'),
);

/** Requests the page tried to send anywhere but the proxy on loopback. */
type Outside = { urls: string[] };

const test = scriptedTest.extend<{ outside: Outside }>({
  outside: async ({ page }, use) => {
    const outside: Outside = { urls: [] };
    // Images the user asked for come from img.example (a 1x1 PNG); every
    // other request off loopback is recorded and refused.
    await page.route(
      (url) => url.hostname !== '127.0.0.1',
      (route) => {
        outside.urls.push(route.request().url());
        if (new URL(route.request().url()).hostname === 'img.example') {
          return route.fulfill({ status: 200, contentType: 'image/png', body: PNG });
        }
        return route.abort();
      },
    );
    await use(outside);
  },
  chat: async ({ page, server, outside }, use) => {
    void outside;
    await page.addInitScript(watchForActiveContent);
    const chat = new ChatPage(page);
    await chat.goto(server.url);
    await use(chat);
  },
});

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * Runs in the page before the app: a MutationObserver that records every
 * element or attribute in the messages that could run code or fetch
 * something, the moment it appears (so states in the middle of a stream
 * count too), and the dialogs a payload might open.
 */
function watchForActiveContent() {
  const w = window as unknown as { __violations: string[]; __pwned?: unknown };
  w.__violations = [];
  const forbidden = new Set(['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'STYLE', 'LINK', 'META', 'BASE', 'FORM', 'MATH', 'IMG', 'VIDEO', 'AUDIO', 'SOURCE', 'FRAME', 'TEXTAREA', 'NOSCRIPT', 'TEMPLATE']);
  // Confab's own icons (src/ui/icons.rs) are inline SVG in the message
  // chrome; an <svg> inside a rendered reply (.markdown) is still caught.
  const ownIcon = (el: Element) => !el.closest('.markdown') && el.closest('svg.icon[aria-hidden="true"]') !== null;
  // A formula's MathML is built by the shell (createElementNS, names from
  // confab_render::math): a <math> directly in the writer's placeholder,
  // holding only these elements.
  const mathml = new Set(['SEMANTICS', 'ANNOTATION', 'MI', 'MN', 'MO', 'MROW', 'MSUP', 'MSUB', 'MSUBSUP', 'MFRAC', 'MSQRT', 'MROOT', 'MOVER', 'MUNDER', 'MUNDEROVER', 'MTEXT', 'MTABLE', 'MTR', 'MTD', 'MSPACE', 'MSTYLE']);
  const ownMath = (el: Element) => el.tagName.toUpperCase() === 'MATH' && el.parentElement?.matches('span.math[data-math="done"], span.math[data-math="pending"]') === true;
  const check = (el: Element) => {
    if (!el.closest('.messages')) return;
    const tag = el.tagName.toUpperCase();
    // An image the user clicked to load is the one allowed <img>.
    if (forbidden.has(tag) && !(tag === 'IMG' && el.classList.contains('loaded-image')) && !ownIcon(el) && !ownMath(el)) {
      w.__violations.push(`<${tag.toLowerCase()}>`);
    }
    const inMath = el.parentElement?.closest('math');
    if (inMath && !mathml.has(tag)) w.__violations.push(`<${tag.toLowerCase()}> in math`);
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'srcdoc' || name === 'formaction') {
        w.__violations.push(`${tag.toLowerCase()}[${name}]`);
      }
      if ((name === 'href' || name === 'src' || name === 'xlink:href' || name === 'action') && !/^(https?:|mailto:)/i.test(attr.value.trim())) {
        w.__violations.push(`${tag.toLowerCase()}[${name}=${attr.value}]`);
      }
    }
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'attributes' && record.target instanceof Element) check(record.target);
      record.addedNodes.forEach((node) => {
        if (node instanceof Element) {
          check(node);
          node.querySelectorAll('*').forEach(check);
        }
      });
    }
  });
  const start = () => observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true });
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start);
  for (const name of ['alert', 'confirm', 'prompt'] as const) {
    (window as unknown as Record<string, unknown>)[name] = () => {
      w.__violations.push(`${name}()`);
      return null;
    };
  }
}

/** Waits until the worker has answered for every code block and formula in `md`. */
async function enhanced(md: Locator): Promise<void> {
  await expect(md.locator('[data-hl="pending"], [data-math="pending"]')).toHaveCount(0);
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

const FEATURES = [
  '## Results',
  '',
  '| Name | Score |',
  '|:-----|------:|',
  '| Ada  | 10    |',
  '| Bob  | 7     |',
  '',
  '- [x] parse the input',
  '- [ ] write ~~everything~~ the tests',
  '',
  'Read [the docs](https://docs.example/guide) or [this](javascript:alert(1)); mail <team@example.com>.',
  '',
  '```python',
  'def greet(name):',
  '    print(f"hi {name}")   # two spaces kept',
  '```',
  '',
  'Inline `a  b` code, and a picture: ![a cat](https://img.example/cat.png)',
  '',
  // An epilogue keeps the reply streaming for a while after the code block.
  ...Array.from({ length: 12 }, (_, i) => `Closing line ${i + 1} of the epilogue.\n`),
  'The end.',
].join('\n');

test('a reply renders as markdown while it streams: table, task list, strikethrough, code with Copy, safe links, images on request', async ({ chat, page, upstream, outside, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  upstream.script = [{ kind: 'reply', text: FEATURES, chunkChars: 5, delayMs: 25 }];
  await chat.send('Show me everything');
  const reply = chat.replies.last();
  const md = reply.locator('.text.markdown');
  // Rendered while streaming: the table is there before the reply ends,
  // and the element stays the same one (appended once, never re-created).
  const stableTable = md.locator('.md-stable table');
  await expect(stableTable).toBeVisible();
  await expect(reply).toHaveAttribute('data-status', 'streaming');
  await stableTable.evaluate((t) => ((t as unknown as { __mark: number }).__mark = 1));
  await expect(md.locator('.md-stable figure.code')).toBeVisible();
  await expect(reply).toHaveAttribute('data-status', 'streaming');
  expect(await stableTable.evaluate((t) => (t as unknown as { __mark?: number }).__mark)).toBe(1);
  await chat.lastReplyDone();
  await expect(md.locator('pre code[data-hl="done"] .tok-keyword').first()).toBeVisible();
  // As streamed, before any click changes it.
  const streamed = await md.innerHTML();

  await expect(md.locator('h2')).toHaveText('Results');
  await expect(md.locator('th')).toHaveText(['Name', 'Score']);
  await expect(md.locator('td.right').first()).toHaveText('10');
  const boxes = md.locator('li input[type="checkbox"]');
  await expect(boxes).toHaveCount(2);
  await expect(boxes.first()).toBeChecked();
  await expect(boxes.first()).toBeDisabled();
  await expect(boxes.last()).not.toBeChecked();
  await expect(md.locator('del')).toHaveText('everything');

  const docs = md.getByRole('link', { name: 'the docs' });
  await expect(docs).toHaveAttribute('href', 'https://docs.example/guide');
  await expect(docs).toHaveAttribute('target', '_blank');
  await expect(docs).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(md.getByRole('link', { name: 'team@example.com' })).toHaveAttribute('href', 'mailto:team@example.com');
  // The javascript: link is its text only.
  await expect(md.getByRole('link', { name: 'this' })).toHaveCount(0);
  await expect(md).toContainText('Read the docs or this; mail');

  // Code: its language, whitespace kept, and Copy puts it on the clipboard.
  const code = md.locator('figure.code');
  await expect(code.locator('.lang')).toHaveText('python');
  const source = 'def greet(name):\n    print(f"hi {name}")   # two spaces kept\n';
  expect(await code.locator('pre code').textContent()).toBe(source);
  expect(await md.locator('p code').textContent()).toBe('a  b');
  await code.getByRole('button', { name: 'Copy' }).click();
  await expect(code.getByRole('button')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(source);

  // The image is not requested until the user asks for it.
  await expect(md.locator('img')).toHaveCount(0);
  expect(outside.urls).toEqual([]);
  await md.getByRole('button', { name: 'Load image from img.example' }).click();
  const image = md.locator('img.loaded-image');
  await expect(image).toHaveAttribute('src', 'https://img.example/cat.png');
  await expect(image).toHaveAttribute('alt', 'a cat');
  await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
  expect(outside.urls).toEqual(['https://img.example/cat.png']);
  expect(await violations(page)).toEqual([]);

  // The streamed result equals the stored reply rendered at once.
  await page.reload();
  await expect(chat.replies.last()).toHaveAttribute('data-status', 'complete');
  await expect(chat.replies.last().locator('pre code[data-hl="done"]')).toHaveCount(1);
  expect(await chat.replies.last().locator('.text.markdown').innerHTML()).toBe(streamed);
  // What the user typed stays plain text.
  await expect(chat.userMessages).toHaveText(['Show me everything']);
  await expect(page.locator('[data-role="user"] .text.markdown')).toHaveCount(0);
});

test(`a corpus of ${corpus.length} hostile replies, streamed in pieces, runs nothing and shows the raw markup as text`, async ({ chat, page, upstream, outside }) => {
  test.setTimeout(240_000);
  expect(corpus.length).toBeGreaterThanOrEqual(40);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  upstream.fallback = { kind: 'reply', text: 'unused' };
  // Chunk sizes vary so that tags, entities and attribute quotes are cut
  // at different places.
  upstream.script = corpus.map((reply, i) => ({ kind: 'reply' as const, text: reply.text, chunkChars: 2 + (i % 5), delayMs: 2 }));
  for (const [i, reply] of corpus.entries()) {
    // A fresh conversation every 20 replies keeps the requests small.
    if (i > 0 && i % 20 === 0) await page.getByRole('button', { name: 'New chat' }).click();
    await chat.send(`Payload ${i + 1}`);
    await expect(chat.replies).toHaveCount((i % 20) + 1);
    const done = await chat.lastReplyDone();
    const text = done.locator('.text.markdown');
    if (reply.visible) {
      expect((await text.textContent()) ?? '', reply.name).toContain(reply.visible);
    }
    const found = await text.evaluate((el) => {
      const bad: string[] = [];
      el.querySelectorAll('*').forEach((node) => {
        for (const attr of Array.from(node.attributes)) if (attr.name.toLowerCase().startsWith('on')) bad.push(attr.name);
      });
      el.querySelectorAll('script, iframe, object, embed, svg, style, img, form, link, meta, base').forEach((node) => bad.push(node.tagName));
      // MathML only as the shell builds it: in a formula's placeholder, with
      // presentation attributes from a fixed list.
      el.querySelectorAll('math').forEach((node) => {
        if (!node.parentElement?.matches('span.math[data-math="done"]')) bad.push('math outside its placeholder');
        node.querySelectorAll('*').forEach((inner) => {
          for (const attr of Array.from(inner.attributes)) {
            if (!['mathvariant', 'displaystyle', 'stretchy', 'linethickness', 'accent', 'width', 'largeop', 'movablelimits', 'encoding'].includes(attr.name)) bad.push(`${inner.tagName}[${attr.name}]`);
          }
        });
      });
      // Highlighted code: spans with a token class, holding text only.
      el.querySelectorAll('pre code span').forEach((node) => {
        if (!/^tok-[a-z]+$/.test(node.className) || node.children.length > 0 || node.attributes.length !== 1) bad.push(`code span ${node.outerHTML}`);
      });
      el.querySelectorAll('a').forEach((a) => {
        if (!/^(https?:|mailto:)/i.test(a.getAttribute('href') ?? '')) bad.push(`a[href=${a.getAttribute('href')}]`);
      });
      return bad;
    });
    expect(found, reply.name).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), reply.name).toBeUndefined();
    expect(await violations(page), reply.name).toEqual([]);
  }
  expect(dialogs).toEqual([]);
  // Nothing was fetched from anywhere: no image, stylesheet or frame.
  expect(outside.urls).toEqual([]);
  expect(upstream.received).toHaveLength(corpus.length);
});

/** About `tokens` tokens (4 characters each) of mixed markdown. */
function longReply(tokens: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let n = 1; length < tokens * 4; n++) {
    const part = [
      `## Part ${n}\n\n`,
      `Paragraph ${n} explains something *useful* at some length, with \`inline code\`, a [link](https://example.com/${n}) and ~~a correction~~, as models do.\n\n`,
      `- item ${n}\n- [ ] task ${n}\n- **bold** item\n\n`,
      `| a | b |\n|---|---|\n| ${n} | \`x\` |\n\n`,
      `\`\`\`rust\nfn f${n}() -> u32 {\n    ${n}\n}\n\`\`\`\n\n`,
    ][n % 5];
    parts.push(part);
    length += part.length;
  }
  return parts.join('');
}

test('a 20,000-token reply streamed at 500 tokens/s is rendered in frames well under 50 ms and ends as rendered at once', async ({ chat, page, upstream }) => {
  test.setTimeout(150_000);
  const text = longReply(20_000);
  // 40 characters (10 tokens) every 20 ms: 500 tokens a second.
  upstream.script = [{ kind: 'reply', text, chunkChars: 40, delayMs: 20 }];
  await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[]; __frames: number[] };
    w.__longTasks = [];
    w.__frames = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longTasks.push(Math.round(entry.duration));
    }).observe({ type: 'longtask' });
    // The app renders a streaming reply in animation-frame callbacks: time
    // each one (parsing the tail, writing the HTML, updating the DOM).
    const raf = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (callback) =>
      raf((time) => {
        const start = performance.now();
        callback(time);
        w.__frames.push(performance.now() - start);
      });
  });
  const started = Date.now();
  await chat.send('Write a long answer');
  const reply = chat.replies.last();
  await expect(reply).toHaveAttribute('data-status', 'complete', { timeout: 120_000 });
  const seconds = (Date.now() - started) / 1000;
  const { longTasks, frames } = await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[]; __frames: number[] };
    return { longTasks: w.__longTasks, frames: w.__frames };
  });
  const sorted = [...frames].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
  console.log(
    `${text.length} characters in ${seconds.toFixed(1)} s; ${frames.length} frames rendered: ` +
      `p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms; long tasks (any cause, busy machine): ${longTasks.length}, ` +
      `longest ${Math.max(0, ...longTasks)} ms`,
  );
  expect(frames.length).toBeGreaterThan(100);
  expect(sorted[sorted.length - 1]).toBeLessThan(50);
  await enhanced(reply.locator('.text.markdown'));
  const streamed = await reply.locator('.text.markdown').innerHTML();
  expect(await reply.locator('.text.markdown figure.code').count()).toBeGreaterThan(100);
  expect(await reply.locator('.text.markdown pre code[data-hl="done"]').count()).toBeGreaterThan(100);
  await page.reload();
  await expect(chat.replies.last()).toHaveAttribute('data-status', 'complete');
  await expect(chat.replies.last().locator('.text.markdown pre code[data-hl="done"]')).toHaveCount(
    await reply.locator('.text.markdown figure.code').count(),
  );
  await enhanced(chat.replies.last().locator('.text.markdown'));
  expect(await chat.replies.last().locator('.text.markdown').innerHTML()).toBe(streamed);
});
