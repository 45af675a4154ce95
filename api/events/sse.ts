import type { ServerResponse } from 'node:http';
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

  /** Resolves once the client can take more: await it before producing the next event. */
  send(event: string, data: unknown, id?: number | string): Promise<void> {
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    return writeWithBackpressure(this.res, `event: ${event}\ndata: ${JSON.stringify(data ?? null)}\n${idLine}\n`);
  }

  /** Skipped while the client is behind: the events waiting for it keep the connection busy anyway. */
  heartbeat(): void {
    if (!this.res.writableNeedDrain) this.res.write(': heartbeat\n\n');
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}

/**
 * Writes a chunk and, when the response buffers more than its highWaterMark (the client reads slower than we
 * produce), waits for `drain` or for the client to go away. Producers that await it pause with their reader, so
 * a slow client costs about one highWaterMark plus one event of memory, not the whole stream.
 */
export async function writeWithBackpressure(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk) || res.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
