import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../config/logger.js';

// One `info` line per request when its answer ends (a stream when it closes): method, path, status, duration and
// the run it concerns. A 422 that a UI swallows is then still visible to the operator.

const runInPath = /\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i;

export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const location = res.getHeader('content-location');
      const runId = runInPath.exec(typeof location === 'string' ? location : '')?.[1] ?? runInPath.exec(req.path)?.[1];
      log.info('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        ...(runId ? { run_id: runId } : {}),
        // A client that hung up before the answer ended.
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
