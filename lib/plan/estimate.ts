import { PROGRESS_LIST_MIN_RANGES } from '../backup/backup-partitions.ts';
import { BENCH_BACKUP_RATE } from './bench-rate.ts';
import type { BackupItem } from './packing.ts';
import { PRICE_SOURCES, PRICES_AS_OF, pricesFor } from './prices.ts';
import { DEFAULT_MAP_CONCURRENCY, FARGATE_TASK, LAMBDA_STEP, LAMBDA_WORKER } from './runners.ts';

/**
 * What one run of the backup workflow costs and takes, counted from its work items and from how the engine and
 * the state machine (lib/infra/workflows/states.ts) run them. A model, not a measurement: every count below
 * names the code it follows, and what it leaves out is said (README, "kafka-backup plan").
 */

/** S3 putStream switches to multipart above one part (lib/storage/s3-store.ts DEFAULT_PART_SIZE). */
export const S3_PART_BYTES = 8 * 1024 * 1024;
/** Keys per ListObjectsV2 page. */
export const S3_LIST_PAGE = 1000;
/** The workflow's lease TTL (functions.ts: 30 min for a 15 min timeout); renewed every third of it. */
export const LEASE_RENEW_SECONDS = 10 * 60;
/**
 * Assumed, not measured: the plan and finalize steps' run time (a fixed part plus one per partition: offsets,
 * progress objects), a worker invocation's start (init, config, plan, lease) and the time a Fargate task takes
 * to start (billed from the image pull).
 */
export const ASSUMED = {
  plan_step_seconds: 5,
  finalize_step_seconds: 5,
  per_partition_step_seconds: 0.005,
  invocation_start_seconds: 2,
  per_range_seconds: 0.05,
  fargate_start_seconds: 60,
} as const;

/**
 * State transitions (Step Functions counts each state entered, retries included; none are counted here):
 * - per run: ApplyDefaults, PlanBackup, BackupPartitions, FinalizeBackup, BackupSucceeded;
 * - per Lambda item: BackupRunner and PartitionBackedUp once, BackupPartition and PartitionBackedUp? per invocation;
 * - per Fargate item: BackupRunner, BackupPartitionOnFargate, its Exited? and ExitCode choices,
 *   PartitionBackedUpOnFargate.
 */
export const TRANSITIONS = {
  per_run: ['ApplyDefaults', 'PlanBackup', 'BackupPartitions', 'FinalizeBackup', 'BackupSucceeded'],
  per_lambda_item: ['BackupRunner', 'PartitionBackedUp'],
  per_lambda_invocation: ['BackupPartition', 'PartitionBackedUp?'],
  per_fargate_item: [
    'BackupRunner',
    'BackupPartitionOnFargate',
    'BackupPartitionOnFargateExited?',
    'BackupPartitionOnFargateExitCode',
    'PartitionBackedUpOnFargate',
  ],
} as const;

/** A partition of the plan, with its byte estimate (those with nothing to read too: finalize reads them all). */
export interface EstimatedPartition {
  topic: string;
  partition: number;
  from: number;
  to: number;
  bytesPerOffset: number;
  /** Stored bytes per byte read (zstd's gain). */
  storedRatio: number;
}

export interface EstimateInput {
  items: readonly BackupItem[];
  partitions: readonly EstimatedPartition[];
  segmentMaxBytes: number;
  checkpointIntervalSecs: number;
  /** Complete backups in the location now (each manifest is read by plan and by retention). */
  storedBackups: number;
  /** Keys under backups/ and under segments/ now (what the plan's and retention's LISTs page through). */
  backupKeys: number;
  segmentKeys: number;
  /** backup.metadata asks for something: one more object. */
  metadata: boolean;
  region?: string | undefined;
  /** Bytes a worker reads per second; default the bench's. */
  bytesPerSecond?: number;
  mapConcurrency?: number;
}

export interface BackupEstimate {
  read: {
    partitions: number;
    items: number;
    on_fargate: number;
    /** Offsets to read: an upper bound of the records (compaction and transaction markers leave gaps). */
    offsets: number;
    bytes: number;
    stored_bytes: number;
    segments: number;
  };
  s3: { put: number; get: number; list: number; usd: number };
  lambda: { invocations: number; gb_seconds: number; usd: number };
  fargate: { tasks: number; vcpu_seconds: number; gb_seconds: number; usd: number };
  step_functions: { state_transitions: number; usd: number };
  total_usd: number;
  duration: {
    /** Plan, the items on mapConcurrency workers in item order, finalize. */
    workflow_seconds: number;
    /** One `kafka-backup backup` process reading everything at the bench's rate. */
    cli_seconds: number;
    bytes_per_second: number;
    rate_measured_at: string;
    rate_command: string;
  };
  prices: {
    region: string;
    /** The table has no row for the region asked: us-east-1's prices are shown. */
    fallback_from?: string;
    as_of: string;
    kind: 'list prices, on demand, USD, no free tier; unverified against the live pages';
    sources: readonly string[];
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const usd = (n: number) => round(n, 6);
const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Segments a range of `bytes` read makes: by size (segment_max_bytes of stored bytes) or by age (the checkpoint). */
export function segmentsOf(
  bytes: number,
  storedRatio: number,
  opts: { segmentMaxBytes: number; checkpointIntervalSecs: number; bytesPerSecond: number },
): { segments: number; stored: number; puts: number } {
  if (bytes <= 0) return { segments: 0, stored: 0, puts: 0 };
  const stored = bytes * storedRatio;
  const bySize = Math.ceil(stored / opts.segmentMaxBytes);
  const byAge = Math.floor(bytes / opts.bytesPerSecond / opts.checkpointIntervalSecs);
  const segments = Math.max(1, bySize, byAge);
  const size = stored / segments;
  // One PutObject, or CreateMultipartUpload + its parts + CompleteMultipartUpload.
  const putsPerSegment = size <= S3_PART_BYTES ? 1 : 2 + Math.ceil(size / S3_PART_BYTES);
  return { segments, stored, puts: segments * putsPerSegment };
}

export function estimateBackup(input: EstimateInput): BackupEstimate {
  const rate = input.bytesPerSecond ?? BENCH_BACKUP_RATE.bytes_per_second;
  const concurrency = Math.max(1, input.mapConcurrency ?? DEFAULT_MAP_CONCURRENCY);
  const price = pricesFor(input.region);
  const p = price.prices;
  const byKey = new Map(input.partitions.map((x) => [key(x.topic, x.partition), x]));
  const P = input.partitions.length;
  const listPages = (keys: number) => Math.max(1, Math.ceil(keys / S3_LIST_PAGE));

  // Plan step: lease (putIfAbsent), manifest HEAD and plan GET (a new backup), every manifest (their headers,
  // read one at a time) and the previous one again, the plan, the workflow's config, metadata; LIST of backups/.
  // Its items and estimate: the same headers, the newest manifest again for record sizes, LISTs of backups/ and
  // segments/.
  const previous = input.storedBackups > 0 ? 1 : 0;
  let put = 1 + 1 + 1 + (input.metadata ? 1 : 0);
  let get = 1 + 1 + input.storedBackups + previous + previous;
  let list = 2 * listPages(input.backupKeys) + listPages(input.segmentKeys);
  // Finalize: config, lease renewal (GET + PUT), plan, every progress object, the metadata reference, the
  // manifest; retention reads every manifest's header (one more now), then the kept ones' segment keys (at most
  // as many again), and LISTs backups/ and segments/; the lease released (GET; DELETEs are free).
  put += 1 + 1;
  get += 1 + 1 + 1 + P + 1 + 2 * (input.storedBackups + 1) + 1;
  list += listPages(input.backupKeys + 4) + listPages(input.segmentKeys);

  let invocations = 0;
  let lambdaSeconds = 0;
  let fargateTasks = 0;
  let fargateSeconds = 0;
  let transitions = TRANSITIONS.per_run.length;
  let offsets = 0;
  let bytes = 0;
  let stored = 0;
  let segments = 0;
  let onFargate = 0;
  const itemSeconds: number[] = [];
  const partitionsOfTopic = new Map<string, number>();
  for (const x of input.partitions) partitionsOfTopic.set(x.topic, (partitionsOfTopic.get(x.topic) ?? 0) + 1);
  for (const item of input.items) {
    offsets += item.offsets;
    bytes += item.bytes;
    // The ranges' progress when the item starts: looked up one by one, or for a topic with many ranges in the
    // item listed (backupPartitions, PROGRESS_LIST_MIN_RANGES); a first run finds none to read.
    const rangesOfTopic = new Map<string, number>();
    for (const r of item.ranges) rangesOfTopic.set(r.topic, (rangesOfTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of rangesOfTopic) {
      if (n > PROGRESS_LIST_MIN_RANGES) list += listPages(partitionsOfTopic.get(topic) ?? n);
      else get += n;
    }
    let seconds = ASSUMED.invocation_start_seconds + ASSUMED.per_range_seconds * item.ranges.length;
    for (const r of item.ranges) {
      const part = byKey.get(key(r.topic, r.partition));
      const rangeBytes = (r.to - r.from) * (part?.bytesPerOffset ?? 0);
      const s = segmentsOf(rangeBytes, part?.storedRatio ?? 1, {
        segmentMaxBytes: input.segmentMaxBytes,
        checkpointIntervalSecs: input.checkpointIntervalSecs,
        bytesPerSecond: rate,
      });
      segments += s.segments;
      stored += s.stored;
      // The segments, a progress PUT after each.
      put += s.puts + s.segments;
      seconds += rangeBytes / rate;
    }
    if (item.runner === 'fargate') {
      onFargate++;
      fargateTasks++;
      // Billed per second with a minute's minimum.
      fargateSeconds += Math.max(60, seconds + ASSUMED.fargate_start_seconds);
      transitions += TRANSITIONS.per_fargate_item.length;
      // One run to the end: config, lease (GET + PUT), plan; a renewal every LEASE_RENEW_SECONDS.
      const renewals = Math.floor(seconds / LEASE_RENEW_SECONDS);
      get += 3 + renewals;
      put += 1 + renewals;
      itemSeconds.push(seconds + ASSUMED.fargate_start_seconds);
    } else {
      const n = Math.max(1, Math.ceil(seconds / LAMBDA_WORKER.budget_seconds));
      invocations += n;
      lambdaSeconds += seconds + (n - 1) * ASSUMED.invocation_start_seconds;
      transitions += TRANSITIONS.per_lambda_item.length + n * TRANSITIONS.per_lambda_invocation.length;
      // Per invocation: config, lease (GET + PUT), plan; a renewal every LEASE_RENEW_SECONDS; each invocation
      // after the first reads its ranges' progress again.
      const renewals = Math.floor(seconds / LEASE_RENEW_SECONDS);
      get += n * 3 + renewals + (n - 1) * item.ranges.length;
      put += n + renewals;
      itemSeconds.push(seconds + (n - 1) * ASSUMED.invocation_start_seconds);
    }
  }
  const stepSeconds =
    ASSUMED.plan_step_seconds + ASSUMED.finalize_step_seconds + 2 * ASSUMED.per_partition_step_seconds * P;
  const workerGbSeconds = (lambdaSeconds * LAMBDA_WORKER.memory_mb) / 1024;
  const stepGbSeconds = (stepSeconds * LAMBDA_STEP.memory_mb) / 1024;
  const lambdaInvocations = invocations + 2;
  const gbSeconds = workerGbSeconds + stepGbSeconds;
  const vcpuSeconds = fargateSeconds * FARGATE_TASK.vcpu;
  const fargateGbSeconds = fargateSeconds * FARGATE_TASK.memory_gb;

  const s3Usd =
    ((put + list) / 1000) * p.s3_put_copy_post_list_per_1000 + (get / 1000) * p.s3_get_and_other_per_1000;
  const lambdaUsd =
    gbSeconds * p.lambda_gb_second + (lambdaInvocations / 1e6) * p.lambda_per_million_requests;
  const fargateUsd =
    (vcpuSeconds / 3600) * p.fargate_vcpu_hour + (fargateGbSeconds / 3600) * p.fargate_gb_hour;
  const sfnUsd = (transitions / 1000) * p.sfn_per_1000_transitions;

  return {
    read: {
      partitions: P,
      items: input.items.length,
      on_fargate: onFargate,
      offsets,
      bytes,
      stored_bytes: Math.round(stored),
      segments,
    },
    s3: { put, get, list, usd: usd(s3Usd) },
    lambda: { invocations: lambdaInvocations, gb_seconds: round(gbSeconds, 1), usd: usd(lambdaUsd) },
    fargate: {
      tasks: fargateTasks,
      vcpu_seconds: round(vcpuSeconds, 1),
      gb_seconds: round(fargateGbSeconds, 1),
      usd: usd(fargateUsd),
    },
    step_functions: { state_transitions: transitions, usd: usd(sfnUsd) },
    total_usd: usd(s3Usd + lambdaUsd + fargateUsd + sfnUsd),
    duration: {
      workflow_seconds: round(
        ASSUMED.plan_step_seconds +
          ASSUMED.finalize_step_seconds +
          2 * ASSUMED.per_partition_step_seconds * P +
          makespan(itemSeconds, concurrency),
        1,
      ),
      cli_seconds: round(bytes / rate, 1),
      bytes_per_second: rate,
      rate_measured_at: BENCH_BACKUP_RATE.measured_at,
      rate_command: BENCH_BACKUP_RATE.command,
    },
    prices: {
      region: price.region,
      ...(price.fallback && input.region ? { fallback_from: input.region } : {}),
      as_of: PRICES_AS_OF,
      kind: 'list prices, on demand, USD, no free tier; unverified against the live pages',
      sources: PRICE_SOURCES,
    },
  };
}

/** When the last of `durations` ends on `workers` workers taking them in order (as the Distributed Map does). */
export function makespan(durations: readonly number[], workers: number): number {
  const free = new Array<number>(Math.max(1, workers)).fill(0);
  for (const d of durations) {
    let i = 0;
    for (let j = 1; j < free.length; j++) if (free[j]! < free[i]!) i = j;
    free[i]! += d;
  }
  return Math.max(...free);
}
