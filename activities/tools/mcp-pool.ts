import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerSpec } from '../../agent-packages/schema.js';
import type { Logger } from '../../config/logger.js';

// Connections to one MCP server (an mcp.json entry), through the official MCP TypeScript client. The worker keeps a
// few per server and reuses them across calls; a connection whose transport closed (a stdio server that died, an
// HTTP session that ended) is dropped, so the next call connects again, which starts a new stdio process.

const POOL_SIZE = 2;

/** `${VAR}` from the worker's environment; an unset one stays literal, with a warning (as deepagents deploy does). */
export function expandVars(text: string, env: Record<string, string | undefined>, warn: (name: string) => void): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    const value = env[name];
    if (value === undefined) warn(name);
    return value ?? whole;
  });
}

export class McpServerPool {
  private idle: Client[] = [];
  private readonly dead = new WeakSet<Client>();
  private readonly all = new Set<Client>();
  private closed = false;

  constructor(
    readonly label: string,
    private readonly spec: McpServerSpec,
    private readonly env: Record<string, string | undefined>,
    private readonly log: Logger,
  ) {}

  /** Runs `fn` on a pooled connection; a connection that broke during it is closed rather than reused. */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    let client = this.idle.pop();
    while (client && this.dead.has(client)) client = this.idle.pop();
    client ??= await this.connect();
    try {
      return await fn(client);
    } finally {
      if (!this.closed && !this.dead.has(client) && this.idle.length < POOL_SIZE) this.idle.push(client);
      else void this.drop(client);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((c) => this.drop(c)));
  }

  private async drop(client: Client): Promise<void> {
    this.dead.add(client);
    this.all.delete(client);
    await client.close().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: 'durable-agent-runtime', version: '0.1.0' });
    const transport = this.transport();
    transport.onclose = () => {
      this.dead.add(client);
      if (!this.closed) this.log.warn('an MCP server connection closed; the next call reconnects', { server: this.label });
    };
    await client.connect(transport);
    this.all.add(client);
    return client;
  }

  private transport(): Transport {
    const warn = (name: string) => this.log.warn(`\${${name}} is not set in the worker's environment`, { server: this.label });
    const x = (s: string) => expandVars(s, this.env, warn);
    const kind = this.spec.type ?? this.spec.transport ?? (this.spec.command ? 'stdio' : 'http');
    if (kind === 'stdio') {
      const env = Object.fromEntries(Object.entries(this.spec.env ?? {}).map(([k, v]) => [k, x(v)]));
      // The server gets PATH and the like (the SDK's safe defaults) plus its own env, never the worker's secrets.
      return new StdioClientTransport({ command: x(this.spec.command!), args: (this.spec.args ?? []).map(x), env, stderr: 'ignore' });
    }
    const url = new URL(x(this.spec.url!));
    const headers = Object.fromEntries(Object.entries(this.spec.headers ?? {}).map(([k, v]) => [k, x(v)]));
    if (kind === 'sse') return new SSEClientTransport(url, { requestInit: { headers } });
    return new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  }
}
