import type { ModelResolver } from '../../activities/models/index.js';
import type { ModelChunk, ModelProvider } from '../../activities/models/types.js';
import { messageText, type Message } from '../../core/messages.js';

// A test's hand on the model: model turns that answer a chosen human message stop (before their first chunk, or
// after a few) until the test lets them go. A scenario that needs "this run is still in flight" (runs arriving at a
// busy thread, a subscription opened mid-stream) then holds by construction instead of by a delay that a loaded
// machine can outrun. The answers are still the scripted model's; only their delivery waits. It works where the
// worker runs in the test's own process (startStack, or createTestWorker).

export interface Hold {
  /** Model turns that have reached the hold so far (a held turn that is retried counts again). */
  readonly entered: number;
  release(): void;
}

type Match = (lastHumanText: string) => boolean;

interface HoldState {
  match: Match;
  afterChunks: number;
  entered: number;
  released: boolean;
  waiters: (() => void)[];
}

export class ModelGate {
  private holds: HoldState[] = [];

  /**
   * Holds every model turn whose last human message matches (all turns with `'*'`) until `release()`, after the
   * first `afterChunks` chunks have been delivered (0: before any).
   */
  hold(match: string | Match, afterChunks = 0): Hold {
    const state: HoldState = {
      match: match === '*' ? () => true : typeof match === 'string' ? (t) => t === match : match,
      afterChunks,
      entered: 0,
      released: false,
      waiters: [],
    };
    this.holds.push(state);
    return {
      get entered() {
        return state.entered;
      },
      release: () => {
        state.released = true;
        this.holds = this.holds.filter((h) => h !== state);
        for (const wake of state.waiters.splice(0)) wake();
      },
    };
  }

  /** Lets every held turn go: call it when a test ends, so a failed test leaves no turn waiting. */
  releaseAll(): void {
    for (const h of this.holds.splice(0)) {
      h.released = true;
      for (const wake of h.waiters.splice(0)) wake();
    }
  }

  /** Wraps a resolver so that its providers pass through this gate. */
  wrap(models: ModelResolver): ModelResolver {
    return (model) => {
      const resolved = models(model);
      return { ...resolved, provider: this.gated(resolved.provider) };
    };
  }

  private gated(inner: ModelProvider): ModelProvider {
    return {
      name: inner.name,
      generate: async (req, onChunk, signal) => {
        const text = lastHumanText(req.messages);
        const hold = this.holds.find((h) => !h.released && h.match(text));
        if (!hold) return inner.generate(req, onChunk, signal);
        // The inner call runs to completion; chunks past the first `afterChunks` wait here until the release.
        const late: ModelChunk[] = [];
        let delivered = 0;
        if (hold.afterChunks === 0) hold.entered++;
        const result = await inner.generate(
          req,
          (chunk) => {
            if (delivered >= hold.afterChunks) return void late.push(chunk);
            onChunk(chunk);
            if (++delivered === hold.afterChunks) hold.entered++;
          },
          signal,
        );
        if (delivered < hold.afterChunks) hold.entered++;
        await released(hold, signal);
        for (const chunk of late) onChunk(chunk);
        return result;
      },
    };
  }
}

function released(hold: HoldState, signal: AbortSignal): Promise<void> {
  if (hold.released) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      const err = new Error('The operation was aborted');
      err.name = 'AbortError';
      reject(err);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    hold.waiters.push(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function lastHumanText(messages: Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.type === 'human') return messageText(messages[i]!.content);
  return '';
}
