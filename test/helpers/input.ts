// Small pieces most test files need: a human message as run input, and how long to wait for a condition.

export const human = (content: string) => ({ messages: [{ role: 'user', content }] });

/**
 * Options for vi.waitFor: bounded, so a condition that never holds fails loudly, and generous enough for a loaded
 * 2-core machine. expect.poll gets the same timeout from the integration project's config.
 */
export const patience = { timeout: 30_000, interval: 50 };

/** A streamed model token: `AIMessageChunk` as the production server sends it, or `ai` as older servers do. */
export const isAiChunk = (type: string) => type === 'AIMessageChunk' || type === 'ai';
