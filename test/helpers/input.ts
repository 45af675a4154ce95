// Small pieces most test files need: a human message as run input, and waiting for a condition to hold.

export const human = (content: string) => ({ messages: [{ role: 'user', content }] });

/** Polls until `check` holds; fails after about 15 s rather than hanging the suite. */
export async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition never held');
}
