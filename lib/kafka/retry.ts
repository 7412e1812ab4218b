// The one retry policy of lib/kafka: an error that time fixes (see classifyKafkaError) is retried with capped
// exponential backoff until a deadline; anything else fails at once.
import { classifyKafkaError, isUnknownTopic } from './errors.ts';

export interface RetryPolicy {
  /** How long transient errors are retried, from the first attempt. */
  deadlineMs: number;
  /**
   * How long an unreachable cluster is retried before anything of it answered once: short, because a typo in
   * bootstrap_servers should fail fast, while a broker restarting under a running job should be waited for.
   */
  unreachableMs: number;
  /** How long a topic may stay unknown (metadata of a topic created a moment ago reaches brokers in ~1 s). */
  unknownTopicMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  deadlineMs: 60_000,
  unreachableMs: 10_000,
  unknownTopicMs: 15_000,
  initialDelayMs: 100,
  maxDelayMs: 2_000,
};

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Capped exponential backoff before retry number `attempt` (1-based). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: {
    policy?: RetryPolicy;
    /** Whether the cluster ever answered: decides between the two deadlines for network errors. */
    reachedBefore?: () => boolean;
    /** Called before each retry, e.g. to drop cached metadata. */
    onRetry?: (e: unknown, attempt: number) => void | Promise<void>;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const kind = classifyKafkaError(e);
      if (kind !== 'transient' && kind !== 'network') throw e;
      const limit =
        kind === 'network' && !opts.reachedBefore?.()
          ? policy.unreachableMs
          : isUnknownTopic(e)
            ? policy.unknownTopicMs
            : policy.deadlineMs;
      const delay = backoffDelay(policy, attempt);
      if (opts.signal?.aborted || Date.now() + delay - started > limit) throw e;
      await opts.onRetry?.(e, attempt);
      await sleep(delay, opts.signal);
    }
  }
}
