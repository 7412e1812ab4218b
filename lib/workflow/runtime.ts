import type { Logger } from '../log.ts';
import type { MetricsRecorder } from '../metrics/index.ts';
import type { KafkaSecret } from './config.ts';

/** Where a step runs: a Lambda function (functions/), or the CLI's `step` command (locally, or the Fargate task). */
export interface StepRuntime {
  logger: Logger;
  metrics: MetricsRecorder;
  /**
   * Milliseconds before the runner stops this step (Lambda: context.getRemainingTimeInMillis). Undefined: no limit,
   * the step runs its work item to the end.
   */
  remainingMs?: () => number;
  /** Workers stop this long before `remainingMs` runs out, to store what they read and return a continuation. */
  deadlineMarginMs: number;
  /** The Kafka secret's JSON (cached by the caller), or undefined when none is configured. */
  secret: () => Promise<KafkaSecret | undefined>;
  env: Readonly<Record<string, string | undefined>>;
  /** Adds fields to every later log line of this invocation (the backup id). */
  appendKeys?: (keys: Record<string, unknown>) => void;
  now?: () => Date;
}

export function deadlineOf(rt: StepRuntime): number | undefined {
  if (!rt.remainingMs) return undefined;
  return Date.now() + Math.max(0, rt.remainingMs() - rt.deadlineMarginMs);
}

export function numberFromEnv(rt: StepRuntime, name: string, fallback: number): number {
  const v = Number(rt.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
