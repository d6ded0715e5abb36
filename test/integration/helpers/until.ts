/**
 * Polls `read` every 250 ms until `ok` holds and returns that value; a read that throws counts as
 * not yet. Bounded so a broken system fails the test with what was last seen, never hangs it.
 * A wait, not a timed assertion: the bound is generous and nothing is asserted about how long it took.
 */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
