import type { Context } from '@temporalio/activity';
import { ModelCallError } from './types.js';

// A vendor can stall mid-stream with its connection open. The activity's timer heartbeats (which say that the
// worker is alive) would keep it looking alive until the 10-minute start-to-close timeout, so the call gets its
// own bound: each token heartbeats (ChunkStream) and restarts the clock, and a silence as long as the stall
// timeout aborts the call with a retryable error, which Temporal retries as it retries a vendor's 503.

export class StallWatch {
  /** Aborts on the activity's cancellation or on a stall; pass it to the provider. */
  readonly signal: AbortSignal;
  private readonly stalled = new AbortController();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: Context,
    /** null: no bound (providers whose silences are their own, such as the local model loading or queued). */
    stallMs: number | null,
    provider: string,
  ) {
    this.signal = AbortSignal.any([ctx.cancellationSignal, this.stalled.signal]);
    if (stallMs === null) return;
    const error = new ModelCallError(`${provider} sent no token for ${stallMs / 1000} s (MODEL_STALL_TIMEOUT_SECONDS)`, true);
    this.timer = setTimeout(() => this.stalled.abort(error), stallMs);
  }

  /** A token arrived: restart the clock. */
  progress(): void {
    this.timer?.refresh();
  }

  /** What the attempt failed with: the stall when it fired (whatever the provider made of the abort), else err. */
  failure(err: unknown): unknown {
    return this.stalled.signal.aborted && !this.ctx.cancellationSignal.aborted ? this.stalled.signal.reason : err;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
