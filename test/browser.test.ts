import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTestConfig } from '../config/test.js';
import { listEffects } from '../db/effects.js';
import { startStack, type Stack } from './helpers/stack.js';

// agent-chat-ui's flows in a real browser: a page built on useStream (test/browser/chat-page.tsx), bundled
// with esbuild, in headless Chromium against a real stack. It sends what agent-chat-ui sends; the test reads
// the request bodies off the wire and the outcome off the page and the database. The scripted model stands in
// for a model. One browser serves every scenario, each on a fresh page and thread.

const here = path.dirname(fileURLToPath(import.meta.url));
const chromium = [loadTestConfig().CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!chromium) console.warn('browser.test.ts skipped: no Chromium binary found (apt-get install -y chromium, or set CHROMIUM_PATH)');

const PAGE = '/__chat-page__/';
const WAIT = { timeout: 30_000, interval: 100 };

let stack: Stack;
let browser: Browser;
let bundle: string;
let userDataDir: string;

describe.skipIf(!chromium)('agent-chat-ui flows in headless Chromium', () => {
  beforeAll(async () => {
    stack = await startStack();
    const out = mkdtempSync(path.join(tmpdir(), 'chat-page-'));
    await build({
      entryPoints: [path.join(here, 'browser', 'chat-page.tsx')],
      tsconfig: path.join(here, 'browser', 'tsconfig.json'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      outfile: path.join(out, 'app.js'),
      logLevel: 'error',
    });
    bundle = readFileSync(path.join(out, 'app.js'), 'utf8');
    rmSync(out, { recursive: true, force: true });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'chromium-'));
    browser = await puppeteer.launch({
      executablePath: chromium!,
      pipe: true,
      ignoreDefaultArgs: true,
      // Without the background-networking flags Chromium dials out at start, and a closed network refuses it.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${userDataDir}`,
        'about:blank',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await stack?.stop();
  });

  it('chats, and an edited message branches; switching shows each branch', async () => {
    const chat = await openChat({});
    await chat.send('hello');
    await expect
      .poll(() => chat.messages(), WAIT)
      .toEqual([
        ['human', 'hello'],
        ['ai', 'hello'],
      ]);
    await chat.send('second');
    const original = [
      ['human', 'hello'],
      ['ai', 'hello'],
      ['human', 'second'],
      ['ai', 'second'],
    ];
    await expect.poll(() => chat.messages(), WAIT).toEqual(original);
    // The chat request, as agent-chat-ui's composer sends it.
    expect(chat.bodies[0]).toEqual({
      assistant_id: chat.assistantId,
      input: { messages: [{ id: expect.any(String), type: 'human', content: [{ type: 'text', text: 'hello' }] }] },
      // useStream adds the modes its hooks read (messages-tuple for thread.messages).
      stream_mode: modes,
      stream_subgraphs: true,
      stream_resumable: true,
      on_disconnect: 'continue',
    });

    await chat.page.click('#messages > li[data-type=human] .edit');
    await chat.fill('#messages > li[data-type=human] .edit-box', 'hola');
    await chat.page.click('#messages > li[data-type=human] .save');
    await expect
      .poll(() => chat.messages(), WAIT)
      .toEqual([
        ['human', 'hola'],
        ['ai', 'hola'],
      ]);
    await expect.poll(() => chat.branchLabel(), WAIT).toBe('2/2');
    // The edit, as agent-chat-ui's human message sends it: from the checkpoint before the first message, which
    // is the thread's first.
    const history = await stack.client.threads.getHistory(chat.threadId(), { limit: 50 });
    expect(chat.bodies.at(-1)).toEqual({
      assistant_id: chat.assistantId,
      input: { messages: [{ type: 'human', content: 'hola' }] },
      checkpoint: expect.objectContaining({ checkpoint_id: history.at(-1)!.checkpoint.checkpoint_id }) as unknown,
      stream_mode: modes,
      stream_subgraphs: true,
      stream_resumable: true,
      on_disconnect: 'continue',
    });

    await chat.page.click('#messages > li[data-type=human] .prev');
    await expect.poll(() => chat.messages(), WAIT).toEqual(original);
    expect(await chat.branchLabel()).toBe('1/2');
    await chat.page.click('#messages > li[data-type=human] .next');
    await expect
      .poll(() => chat.messages(), WAIT)
      .toEqual([
        ['human', 'hola'],
        ['ai', 'hola'],
      ]);
    chat.assertNoPageErrors();
  });

  it('shows a tool call and its result', async () => {
    const chat = await openChat({ script: [{ tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] }, { content: '42.' }] });
    await chat.send('what is 6*7?');
    await expect
      .poll(() => chat.messages(), WAIT)
      .toEqual([
        ['human', 'what is 6*7?'],
        ['ai', ''],
        ['tool', '42'],
        ['ai', '42.'],
      ]);
    expect(await chat.page.$$eval('.tool-call', (els) => els.map((e) => [e.getAttribute('data-name'), e.textContent]))).toEqual([
      ['calculator', '{"expression":"6*7"}'],
    ]);
    chat.assertNoPageErrors();
  });

  it('review: Mark as Resolved leaves the call waiting; approve runs it once', async () => {
    const chat = await openChat(reviewedTurn(ticket('Printer on fire')));
    await chat.send('open a ticket');
    await chat.waitForReview(1);
    expect(await chat.page.$eval('#review .description', (e) => e.textContent)).toBe('Tool execution pending approval: create_ticket');

    const waiting = await pendingInterrupts(chat.threadId());
    expect(waiting).toHaveLength(1);
    await chat.page.click('#resolve');
    await chat.waitForRun(2);
    expect(chat.bodies[1]).toEqual(resumeBody(chat, { goto: '__end__' }));
    expect((await stack.client.runs.list(chat.threadId())).map((r) => r.status)).toEqual(['success', 'success']);
    await chat.waitForReview(1);
    expect(await pendingInterrupts(chat.threadId())).toEqual(waiting);
    expect((await stack.client.threads.get(chat.threadId())).status).toBe('interrupted');
    expect(await listEffects(stack.db, chat.threadId())).toEqual([]);

    await chat.page.click('#submit-review');
    await expect.poll(() => chat.types(), WAIT).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(chat.bodies[2]).toEqual(resumeBody(chat, { resume: { decisions: [{ type: 'approve' }] } }));
    expect((await chat.messages()).at(-1)).toEqual(['ai', 'Ticket filed.']);
    expect((await listEffects(stack.db, chat.threadId())).map((e) => e.args)).toEqual([{ title: 'Printer on fire', priority: 'high' }]);
    chat.assertNoPageErrors();
  });

  it('review: edit runs the tool with the new arguments', async () => {
    const chat = await openChat(reviewedTurn(ticket('Printer on fire')));
    await chat.send('open a ticket');
    await chat.waitForReview(1);
    await chat.page.select('#review .decision', 'edit');
    await chat.fill('#review .args', '{"title":"Printer smoking","priority":"low"}');
    await chat.page.click('#submit-review');
    await expect.poll(() => chat.types(), WAIT).toEqual(['human', 'ai', 'tool', 'ai']);
    const edited = { name: 'create_ticket', args: { title: 'Printer smoking', priority: 'low' } };
    expect(chat.bodies[1]).toEqual(resumeBody(chat, { resume: { decisions: [{ type: 'edit', edited_action: edited }] } }));
    expect((await listEffects(stack.db, chat.threadId())).map((e) => e.args)).toEqual([edited.args]);
    expect(await chat.page.$eval('.tool-call', (e) => e.textContent)).toBe(JSON.stringify(edited.args));
    chat.assertNoPageErrors();
  });

  it('review: reject returns the reason to the model and never runs the tool', async () => {
    const chat = await openChat(reviewedTurn(ticket('Printer on fire')));
    await chat.send('open a ticket');
    await chat.waitForReview(1);
    await chat.page.select('#review .decision', 'reject');
    await chat.fill('#review .reason', 'Not a real fire.');
    await chat.page.click('#submit-review');
    await expect.poll(() => chat.types(), WAIT).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(chat.bodies[1]).toEqual(resumeBody(chat, { resume: { decisions: [{ type: 'reject', message: 'Not a real fire.' }] } }));
    expect((await chat.messages())[2]).toEqual(['tool', 'Not a real fire.']);
    expect(await listEffects(stack.db, chat.threadId())).toEqual([]);
    chat.assertNoPageErrors();
  });

  it('review: two calls in one turn are one review; submit all answers each call', async () => {
    const chat = await openChat(reviewedTurn(ticket('A'), ticket('B')));
    await chat.send('open two tickets');
    await chat.waitForReview(2);
    await chat.page.select('#review .action:nth-of-type(2) .decision', 'reject');
    await chat.fill('#review .action:nth-of-type(2) .reason', 'B is a duplicate.');
    await chat.page.click('#submit-review');
    await expect.poll(() => chat.types(), WAIT).toEqual(['human', 'ai', 'tool', 'tool', 'ai']);
    const decisions = [{ type: 'approve' }, { type: 'reject', message: 'B is a duplicate.' }];
    expect(chat.bodies[1]).toEqual(resumeBody(chat, { resume: { decisions } }));
    expect((await chat.messages())[3]).toEqual(['tool', 'B is a duplicate.']);
    expect((await listEffects(stack.db, chat.threadId())).map((e) => e.args.title)).toEqual(['A']);
    chat.assertNoPageErrors();
  });
});

const ticket = (title: string) => ({ name: 'create_ticket', args: { title, priority: 'high' } });
const reviewedTurn = (...calls: object[]) => ({
  script: [{ tool_calls: calls }, { content: 'Ticket filed.' }],
  interrupt_on: { create_ticket: true },
});

const pendingInterrupts = async (threadId: string) =>
  (await stack.client.threads.getState(threadId)).tasks.flatMap((t) => t.interrupts.map((i) => i.id));

type Body = Record<string, unknown>;
const modes = expect.toSatisfy((m: unknown) => Array.isArray(m) && [...m].sort().join() === 'messages-tuple,values') as unknown;

/**
 * A review decision as agent-chat-ui sends it: the command beside an empty input, cancelled if the tab goes.
 * (useStream adds `checkpoint`, the head, only when the page shows an older branch; test/hitl.test.ts covers that.)
 */
function resumeBody(chat: Chat, command: object): Body {
  return {
    assistant_id: chat.assistantId,
    input: {},
    command,
    stream_mode: modes,
    stream_resumable: false,
    on_disconnect: 'cancel',
  };
}

interface Chat {
  page: Page;
  assistantId: string;
  /** Bodies of the runs the page started, in order. */
  bodies: Body[];
  threadId(): string;
  send(text: string): Promise<void>;
  fill(selector: string, value: string): Promise<void>;
  messages(): Promise<string[][]>;
  types(): Promise<string[]>;
  branchLabel(): Promise<string | null>;
  waitForReview(actions: number): Promise<void>;
  waitForRun(n: number): Promise<void>;
  assertNoPageErrors(): void;
}

/** A fresh page on a new assistant whose configurable is `configurable`, served from the API's own origin. */
async function openChat(configurable: Record<string, unknown>): Promise<Chat> {
  const assistant = await stack.client.assistants.create({ graphId: 'agent', config: { configurable } });
  const page = await browser.newPage();
  const origin = new URL(stack.url).origin;
  const bodies: Body[] = [];
  const errors: string[] = [];
  const thread: { id?: string } = {};
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin === origin && url.pathname === PAGE)
      return void req.respond({
        contentType: 'text/html',
        body: '<!doctype html><div id="root"></div><script type="module" src="app.js"></script>',
      });
    if (url.origin === origin && url.pathname === `${PAGE}app.js`)
      return void req.respond({ contentType: 'text/javascript', body: bundle });
    const run = req.method() === 'POST' ? /^\/threads\/([^/]+)\/runs\/stream$/.exec(url.pathname) : null;
    if (run) {
      thread.id = run[1]!;
      bodies.push(JSON.parse(req.postData() ?? '{}') as Body);
    }
    void req.continue();
  });
  await page.goto(`${origin}${PAGE}?assistantId=${assistant.assistant_id}`);
  await page.waitForSelector('#composer');
  const chat: Chat = {
    page,
    assistantId: assistant.assistant_id,
    bodies,
    threadId: () => {
      if (!thread.id) throw new Error('the page has started no run yet');
      return thread.id;
    },
    async send(text) {
      await chat.fill('#composer', text);
      const before = bodies.length;
      await page.click('#send');
      await chat.waitForRun(before + 1);
    },
    async fill(selector, value) {
      await page.$eval(selector, (e) => (e as unknown as { select(): void }).select());
      await page.focus(selector);
      await page.keyboard.press('Backspace');
      await page.keyboard.type(value);
    },
    messages: () =>
      page.$$eval('#messages > li', (els) =>
        els.map((e) => [e.getAttribute('data-type') ?? '', e.querySelector('.text')?.textContent ?? '']),
      ),
    types: async () => (await chat.messages()).map(([t]) => t!),
    branchLabel: () => page.$eval('#messages > li[data-type=human] .branch', (e) => e.textContent).catch(() => null),
    async waitForReview(actions) {
      await expect.poll(() => page.$$eval('#review .action', (els) => els.length), WAIT).toBe(actions);
      await expect.poll(() => page.$eval('main', (e) => e.getAttribute('data-loading')), WAIT).toBe('false');
    },
    async waitForRun(n) {
      await expect.poll(() => bodies.length, WAIT).toBeGreaterThanOrEqual(n);
      await expect.poll(() => page.$eval('main', (e) => e.getAttribute('data-loading')), WAIT).toBe('false');
    },
    assertNoPageErrors: () => expect(errors).toEqual([]),
  };
  return chat;
}
