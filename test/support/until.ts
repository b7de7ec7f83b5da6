/**
 * Waits until `check` holds, polling every 25 ms: a test waits for a positive signal (an email, a
 * receipt code, an audit line), never for a bare sleep standing for "nothing happened". Resolves what
 * `check` returned; throws after `timeoutMs` naming `what` it waited for.
 */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
