import type { Response } from 'express';

/** Server-sent events in the Agent Server's framing: `event`, `data` (one JSON line), `id`, blank line. */
export class SseStream {
  constructor(private readonly res: Response) {}

  static open(res: Response, headers: Record<string, string>): SseStream {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.flushHeaders();
    return new SseStream(res);
  }

  send(event: string, data: unknown, id?: number | string): void {
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data ?? null)}\n${idLine}\n`);
  }

  heartbeat(): void {
    this.res.write(': heartbeat\n\n');
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
