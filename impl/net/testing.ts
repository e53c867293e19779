/**
 * Test helper: resolves once `predicate` holds, polling every few ms; rejects after `timeoutMs`
 * with `what` in the message. For socket tests, whose deliveries are asynchronous.
 */
export async function eventually(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
