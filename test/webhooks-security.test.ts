import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRefusedAddress } from '../activities/webhook-http.js';
import { webhookWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Webhooks leave only for allowed destinations, never follow redirects, and are signed; forwarded headers carry no
// credentials. Receivers are local HTTP servers; the stack allows only the one named `allowed`.

const SECRET = 'whsec-test-only';
const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let port = 0;
let stack: Stack;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/redirect') res.writeHead(307, { location: `http://127.0.0.1:${port}/admin` }).end();
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  // Only 127.0.0.1 is allowed: 127.0.0.2 is refused as an address, `localhost` once resolved.
  stack = await startStack({ webhooks: { allowedHosts: ['127.0.0.1'], secret: SECRET } });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => server.close(() => r()));
});

/** The delivery's outcome, once its workflow (started when the run ends) exists. */
async function delivery(runId: string): Promise<unknown> {
  const handle = stack.temporal.workflow.getHandle(webhookWorkflowId(runId));
  await expect
    .poll(() =>
      handle.describe().then(
        () => true,
        () => false,
      ),
    )
    .toBe(true);
  return handle.result();
}

/** How a receiver verifies a delivery (the README shows the same). */
function verify(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  return timingSafeEqual(Buffer.from(expected), Buffer.from(parts.v1 ?? ''));
}

describe('webhook security', () => {
  it('classifies loopback, private, link-local and metadata addresses as refused', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
    ])
      expect(isRefusedAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '2606:2800:220:1::1']) expect(isRefusedAddress(a), a).toBe(false);
  });

  it('refuses a loopback destination that is not allowed, after DNS too, and sends it nothing', async () => {
    const thread = await stack.client.threads.create();
    const before = received.length;
    const direct = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('a'),
      webhook: `http://127.0.0.2:${port}/hook`,
    });
    await expect(delivery(direct.run_id)).rejects.toThrow('Workflow execution failed');
    // A name resolving to loopback (not listed) is refused at connection time.
    const named = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('b'),
      webhook: `http://localhost:${port}/hook`,
    });
    await expect(delivery(named.run_id)).rejects.toThrow('Workflow execution failed');
    expect(received.length).toBe(before);
  });

  it('signs deliveries, and does not follow redirects', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('signed'),
      webhook: `http://127.0.0.1:${port}/hook`,
    });
    await expect.poll(() => received.filter((r) => r.body.includes(run.run_id)).length).toBe(1);
    const hit = received.find((r) => r.body.includes(run.run_id))!;
    const header = String(hit.headers['x-webhook-signature']);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(SECRET, header, hit.body)).toBe(true);
    expect(verify('another-secret', header, hit.body)).toBe(false);
    expect(verify(SECRET, header, hit.body.replace('signed', 'forged'))).toBe(false);

    const redirected = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('r'),
      webhook: `http://127.0.0.1:${port}/redirect`,
    });
    await expect(delivery(redirected.run_id)).rejects.toThrow('Workflow execution failed');
    expect(received.filter((r) => r.url === '/admin')).toEqual([]);
  });

  it('keeps credentials out of forwarded headers', async () => {
    const thread = await stack.client.threads.create();
    const res = await fetch(`${stack.url}/threads/${thread.thread_id}/runs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-openai-api-key': 'sk-secret',
        'x-auth-token': 't',
        'x-db-password': 'p',
        'x-client-secret': 's',
        'x-session-cookie': 'c',
        'x-trace-id': 'kept',
      },
      body: JSON.stringify({ assistant_id: 'agent', input: human('h') }),
    });
    const run = (await res.json()) as { kwargs: { config: { configurable: Record<string, unknown> } } };
    const keys = Object.keys(run.kwargs.config.configurable);
    expect(keys).toContain('x-trace-id');
    for (const k of ['x-openai-api-key', 'x-auth-token', 'x-db-password', 'x-client-secret', 'x-session-cookie'])
      expect(keys).not.toContain(k);
  });
});
