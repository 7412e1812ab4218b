/**
 * What the workflows' compute is, as lib/infra/workflows/functions.ts deploys it by default (it takes these
 * values from here, so the estimate and the stacks cannot drift apart): the sizes the estimate prices.
 */

/** The backup-partition and restore-partition functions (`WORKER_STEPS`), at the default memory and timeout. */
export const LAMBDA_WORKER = {
  memory_mb: 2048,
  timeout_seconds: 15 * 60,
  /** A worker stops this long before its timeout (functions.ts: a fifth of it, between 5 s and 60 s). */
  margin_seconds: 60,
  /** What a worker reads in: timeout − margin. */
  budget_seconds: 15 * 60 - 60,
} as const;

/** Every other step's function (plan, finalize, ...). */
export const LAMBDA_STEP = { memory_mb: 512 } as const;

/** The Fargate task that runs items too large for Lambda (2 vCPU, 8 GiB, x86_64 Linux). */
export const FARGATE_TASK = { cpu_units: 2048, vcpu: 2, memory_mib: 8192, memory_gb: 8 } as const;

/** The Distributed Maps' default maxConcurrency (lib/infra/workflows/workflows.ts): items read at once. */
export const DEFAULT_MAP_CONCURRENCY = 10;

/** The margin functions.ts gives a worker of this timeout: a fifth, between 5 s and 60 s. */
export function marginSecondsFor(timeoutSeconds: number): number {
  return Math.min(60, Math.max(5, Math.floor(timeoutSeconds / 5)));
}
