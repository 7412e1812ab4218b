/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results in input order. After a call fails no
 * further one starts, and the promise rejects (with the first failure) only once those in flight have ended: a
 * caller that retries or gives up never runs alongside calls still working on its behalf.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  await allSettledOrThrow(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (next < items.length && !failed) {
        const i = next++;
        try {
          out[i] = await fn(items[i]!);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
  return out;
}

/** Promise.all that, when one rejects, still waits for the others to end before rejecting with the first error. */
export async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
