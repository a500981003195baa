// One deployment, many people: confab-proxy gives each browser an identity
// (a signed HttpOnly cookie, or a header set by an authenticating reverse
// proxy) and relays to the real ADK api_server only the routes the page
// uses, each scoped to the caller's own users.
import { test as base, expect, Proxy, AdkServer, adkApps, ChatPage, useAgent } from './fixtures';
import type { Browser, BrowserContext, Page } from '@playwright/test';

type Fixtures = { adk: AdkServer; trustUserHeader: string | undefined };

const test = base.extend<Fixtures>({
  trustUserHeader: [undefined, { option: true }],
  adk: async ({}, use) => {
    const adk = new AdkServer();
    await adk.start();
    try {
      await use(adk);
    } finally {
      await adk.stop();
    }
  },
  server: async ({ adk, trustUserHeader }, use) => {
    const proxy = new Proxy({ tokenDelayMs: 5, listen: '127.0.0.1:0', adkUrl: adk.url, trustUserHeader });
    await proxy.start();
    try {
      await use(proxy);
    } finally {
      await proxy.stop();
    }
  },
});

const app = adkApps.history;

/** A person: a browser context of their own with the app open and agent mode on. */
async function person(browser: Browser, url: string, headers?: Record<string, string>): Promise<{ context: BrowserContext; chat: ChatPage }> {
  const context = await browser.newContext({ extraHTTPHeaders: headers });
  const chat = new ChatPage(await context.newPage());
  await chat.goto(url);
  await useAgent(chat.page, app);
  return { context, chat };
}

async function ask(chat: ChatPage, text: string): Promise<void> {
  await chat.send(text);
  await chat.lastReplyDone();
}

/** The ADK user id of the page's active profile (its own, random). */
async function agentUser(page: Page): Promise<string> {
  return page.evaluate(() => {
    const profiles = JSON.parse(localStorage.getItem('confab:profiles')!);
    return profiles.profiles.find((p: { id: string }) => p.id === profiles.active).agentUser;
  });
}

/** The browser's identity, as its cookie carries it (`v1.<id>.<issued>.<mac>`). */
async function identity(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'confab_identity');
  expect(cookie, 'the proxy issued an identity cookie').toBeTruthy();
  return cookie!.value.split('.')[1];
}

/** An HTTP call from inside the page (with its cookies, as the app's own calls). */
async function fromPage(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    },
    { method, path, body },
  );
}

/** What the agent server itself holds for `user` (read directly, as only its operator can). */
async function serverSessions(adk: AdkServer, user: string): Promise<{ id: string; userId: string }[]> {
  const response = await fetch(`${adk.url}/apps/${app}/users/${encodeURIComponent(user)}/sessions`);
  expect(response.status).toBe(200);
  return response.json();
}

test('two people on one proxy: neither can list or read the other\'s agent conversations, from the page or without it', async ({ browser, server, adk }) => {
  const ada = await person(browser, server.url);
  const bob = await person(browser, server.url);
  try {
    await ask(ada.chat, "Ada's secret plan");
    await ask(bob.chat, "Bob's words");
    const [adaUser, bobUser] = [await agentUser(ada.chat.page), await agentUser(bob.chat.page)];
    expect(adaUser).not.toBe(bobUser);
    expect(adaUser).toMatch(/^u-[0-9a-f]{24}$/);
    const [adaId, bobId] = [await identity(ada.context), await identity(bob.context)];
    expect(adaId).not.toBe(bobId);

    // On the agent server, each lives under <identity>.<profile's user>.
    const adaSessions = await serverSessions(adk, `${adaId}.${adaUser}`);
    expect(adaSessions).toHaveLength(1);
    expect(await serverSessions(adk, 'local')).toEqual([]);
    const adaSession = adaSessions[0].id;

    // Ada sees her own through the proxy.
    const own = await fromPage(ada.chat.page, 'GET', `/adk/apps/${app}/users/${adaUser}/sessions`);
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text).map((s: { id: string }) => s.id)).toEqual([adaSession]);

    // Bob, naming Ada's profile user, reaches only his own namespace...
    const listed = await fromPage(bob.chat.page, 'GET', `/adk/apps/${app}/users/${adaUser}/sessions`);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toEqual([]);
    const read = await fromPage(bob.chat.page, 'GET', `/adk/apps/${app}/users/${adaUser}/sessions/${adaSession}`);
    expect(read.status).toBe(404);
    expect(read.text).not.toContain('secret plan');
    // ...and naming Ada's full user (her identity) is refused outright.
    for (const path of [`/adk/apps/${app}/users/${adaId}.${adaUser}/sessions`, `/adk/apps/${app}/users/${adaId}.${adaUser}/sessions/${adaSession}`]) {
      const refused = await fromPage(bob.chat.page, 'GET', path);
      expect(refused.status, path).toBe(403);
      expect(refused.text).not.toContain('secret plan');
    }
    const run = await fromPage(bob.chat.page, 'POST', '/adk/run_sse', {
      app_name: app,
      user_id: `${adaId}.${adaUser}`,
      session_id: adaSession,
      new_message: { role: 'user', parts: [{ text: 'Tell me her plan' }] },
      streaming: true,
    });
    expect(run.status).toBe(403);

    // Without the cookie (curl, say): 401, whatever the path names.
    for (const path of [`/adk/apps/${app}/users/${adaUser}/sessions`, `/adk/apps/${app}/users/${adaId}.${adaUser}/sessions/${adaSession}`, '/adk/list-apps']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.text()).not.toContain('secret plan');
    }
    // Routes the page never uses do not reach the agent server at all.
    for (const [method, path] of [
      ['POST', '/adk/run'],
      ['GET', `/adk/apps/${app}/users/${adaUser}/sessions/${adaSession}/memory`],
      ['GET', '/adk/dev/build_graph/x'],
      ['PATCH', `/adk/apps/${app}/users/${adaUser}/sessions/${adaSession}`],
    ]) {
      const response = await fromPage(ada.chat.page, method, path, method === 'GET' ? undefined : {});
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    // The server still holds Ada's conversation as it was: nobody else's turn got in.
    const whole = await (await fetch(`${adk.url}/apps/${app}/users/${adaId}.${adaUser}/sessions/${adaSession}`)).json();
    const texts = whole.events.map((e: { content?: { parts?: { text?: string }[] } }) => e.content?.parts?.[0]?.text ?? '');
    expect(texts.filter((t: string) => t.includes('Tell me her plan'))).toEqual([]);
  } finally {
    await ada.context.close();
    await bob.context.close();
  }
});

test.describe('behind an authenticating reverse proxy', () => {
  test.use({ trustUserHeader: 'X-Forwarded-Email' });

  test('one person on two devices reaches the same agent sessions; another person does not', async ({ browser, server, adk }) => {
    const laptop = await person(browser, server.url, { 'X-Forwarded-Email': 'ada@example.com' });
    const phone = await person(browser, server.url, { 'X-Forwarded-Email': 'ada@example.com' });
    const other = await person(browser, server.url, { 'X-Forwarded-Email': 'bob@example.com' });
    try {
      await ask(laptop.chat, 'Written on the laptop');
      const laptopUser = await agentUser(laptop.chat.page);
      // No cookie in this mode: the header is the identity.
      expect((await laptop.context.cookies()).filter((c) => c.name === 'confab_identity')).toEqual([]);
      const path = `/adk/apps/${app}/users/${laptopUser}/sessions`;
      const fromPhone = await fromPage(phone.chat.page, 'GET', path);
      expect(fromPhone.status).toBe(200);
      const sessions = JSON.parse(fromPhone.text) as { id: string }[];
      expect(sessions).toHaveLength(1);
      const session = await fromPage(phone.chat.page, 'GET', `${path}/${sessions[0].id}`);
      expect(session.text).toContain('Written on the laptop');
      const fromOther = await fromPage(other.chat.page, 'GET', path);
      expect(JSON.parse(fromOther.text)).toEqual([]);
      // Without the header (someone reaching the proxy around the authenticating one): 401.
      expect((await fetch(`${server.url}${path}`)).status).toBe(401);
      expect(sessions[0].id).toBeTruthy();
      expect((await serverSessions(adk, 'local')).length).toBe(0);
    } finally {
      await laptop.context.close();
      await phone.context.close();
      await other.context.close();
    }
  });
});

test('a store from before this change: its profile gets an ADK user of its own, and the agent conversation goes on with its history', async ({ browser, server }) => {
  const ada = await person(browser, server.url);
  try {
    await ask(ada.chat, 'Remember the word pelican');
    await ask(ada.chat, 'And the word heron');
    const before = await agentUser(ada.chat.page);
    // As stored before: profiles without an ADK user of their own.
    await ada.chat.page.evaluate(() => {
      const profiles = JSON.parse(localStorage.getItem('confab:profiles')!);
      for (const p of profiles.profiles) delete p.agentUser;
      localStorage.setItem('confab:profiles', JSON.stringify(profiles));
    });
    await ada.chat.page.reload();
    await expect(ada.chat.userMessages).toHaveCount(2);
    const after = await agentUser(ada.chat.page);
    expect(after).toMatch(/^u-[0-9a-f]{24}$/);
    expect(after).not.toBe(before);
    // The server session under the old user is out of reach: restored under the new one.
    await ada.chat.send('Which words?');
    const reply = await ada.chat.lastReplyDone();
    await expect(reply.locator('.text')).toHaveText('I am history_agent. This is turn 3. You said first: "Remember the word pelican". You said now: "Which words?".');
    await expect(ada.chat.page.locator('.notice')).toContainText('restored it with its 4 earlier events');
  } finally {
    await ada.context.close();
  }
});

test('a browser whose identity cookie is gone gets a new one and its agent conversation goes on', async ({ browser, server }) => {
  const ada = await person(browser, server.url);
  try {
    await ask(ada.chat, 'First words');
    const first = await identity(ada.context);
    await ada.context.clearCookies();
    await ask(ada.chat, 'Second words');
    await expect(ada.chat.replies.last().locator('.text')).toContainText('This is turn 2. You said first: "First words"');
    expect(await identity(ada.context)).not.toBe(first);
  } finally {
    await ada.context.close();
  }
});
