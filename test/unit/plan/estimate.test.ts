import { describe, expect, it } from 'vitest';
import { PROGRESS_LIST_MIN_RANGES } from '../../../lib/backup/backup-partitions.ts';
import { estimateBackup, makespan, segmentsOf, TRANSITIONS } from '../../../lib/plan/estimate.ts';
import { BENCH_BACKUP_RATE, PRICES, PRICES_AS_OF, pricesFor } from '../../../lib/plan/index.ts';

const MiB = 1024 * 1024;

describe('estimateBackup', () => {
  // One Lambda item of two small partitions, one Fargate item of a large one, a partition with nothing to read.
  const input = {
    items: [
      {
        ranges: [{ topic: 'b', partition: 0, from: 0, to: 30_000_000 }],
        offsets: 30_000_000,
        bytes: 3_000_000_000,
        runner: 'fargate' as const,
      },
      {
        ranges: [
          { topic: 'a', partition: 0, from: 0, to: 1000 },
          { topic: 'a', partition: 1, from: 0, to: 2000 },
        ],
        offsets: 3000,
        bytes: 2_000_000,
        runner: 'lambda' as const,
      },
    ],
    partitions: [
      { topic: 'a', partition: 0, from: 0, to: 1000, bytesPerOffset: 1000, storedRatio: 0.25 },
      { topic: 'a', partition: 1, from: 0, to: 2000, bytesPerOffset: 500, storedRatio: 0.25 },
      { topic: 'a', partition: 2, from: 5, to: 5, bytesPerOffset: 500, storedRatio: 0.25 },
      { topic: 'b', partition: 0, from: 0, to: 30_000_000, bytesPerOffset: 100, storedRatio: 0.5 },
    ],
    segmentMaxBytes: 32 * MiB,
    checkpointIntervalSecs: 30,
    storedBackups: 2,
    backupKeys: 6,
    segmentKeys: 2500,
    metadata: false,
    region: 'us-east-1',
    bytesPerSecond: 10 * MiB,
    mapConcurrency: 10,
  };

  it('counts requests, compute and transitions as computed by hand', () => {
    const e = estimateBackup(input);
    // PUT: plan 3 (lease, plan, config) + finalize 2 (lease renewal, manifest); Lambda item: 2 × (segment +
    // progress) + 1 lease renewal; Fargate item: 45 segments of 1.5e9/45 B stored, multipart of 4 parts each
    // (2 + 4 = 6 requests) = 270, + 45 progress, + 1 lease renewal. 5 + 5 + 316 = 326.
    // GET: plan 6 (manifest HEAD, plan, 2 manifest headers and the previous manifest, for the items the newest
    // manifest again), finalize 15 (config, lease, plan, 4 progress objects, metadata, 3 manifest headers and 3
    // kept manifests, lease), items: 2 progress + 3, 1 progress + 3. 6 + 15 + 5 + 4 = 30.
    // LIST: backups/ twice and segments/ (2500 keys: 3 pages) at plan, backups/ and segments/ at retention = 9.
    expect(e.s3).toMatchObject({ put: 326, get: 30, list: 9 });
    expect(e.read).toEqual({
      partitions: 4,
      items: 2,
      on_fargate: 1,
      offsets: 30_003_000,
      bytes: 3_002_000_000,
      stored_bytes: 1_500_500_000,
      segments: 47,
    });
    // 5 per run + (2 + 2 × 1 invocation) for the Lambda item + 5 for the Fargate item.
    expect(e.step_functions.state_transitions).toBe(14);
    // Worker: 2 s start + 2 × 0.05 s a range + 2e6 B at 10 MiB/s = 2.2907 s × 2 GB; steps: 5 + 5 + 2 × 4 × 0.005 = 10.04 s × 0.5 GB.
    expect(e.lambda).toMatchObject({ invocations: 3, gb_seconds: 9.6 });
    // Fargate: 2.05 s + 3e9 B at 10 MiB/s + 60 s start = 348.15 s × 2 vCPU, × 8 GB.
    expect(e.fargate).toMatchObject({ tasks: 1, vcpu_seconds: 696.3, gb_seconds: 2785.2 });
    // us-east-1: 335/1000 × $0.005 + 30/1000 × $0.0004; 9.6015 GB-s × $0.0000166667 + 3 requests × $0.20/1M;
    // 696.30/3600 × $0.04048 + 2785.22/3600 × $0.004445; 14/1000 × $0.025.
    expect(e.s3.usd).toBeCloseTo(0.001687, 6);
    expect(e.lambda.usd).toBeCloseTo(0.000160625, 6);
    expect(e.fargate.usd).toBeCloseTo(0.011268529, 6);
    expect(e.step_functions.usd).toBeCloseTo(0.00035, 6);
    expect(e.total_usd).toBeCloseTo(0.013466154, 6);
    // Plan and finalize 10.04 s, then the Fargate item (348.15 s) beside the Lambda one; one CLI at 10 MiB/s.
    expect(e.duration).toMatchObject({
      workflow_seconds: 358.2,
      cli_seconds: 286.3,
      bytes_per_second: 10 * MiB,
    });
    expect(e.prices).toMatchObject({ region: 'us-east-1', as_of: PRICES_AS_OF });
    expect(e.prices.fallback_from).toBeUndefined();
  });

  it('prices a region the table lacks at us-east-1, and says so', () => {
    const e = estimateBackup({ ...input, region: 'xx-nowhere-9' });
    expect(e.prices).toMatchObject({ region: 'us-east-1', fallback_from: 'xx-nowhere-9' });
    expect(estimateBackup({ ...input, region: 'sa-east-1' }).total_usd).toBeGreaterThan(
      estimateBackup(input).total_usd,
    );
  });

  it('continues a Lambda item over several invocations when it outlasts the budget', () => {
    // 840 s × 10 MiB/s = 8.2 GiB a worker invocation; 20 GiB takes 3.
    const bytes = 20 * 1024 * MiB;
    const e = estimateBackup({
      ...input,
      items: [
        {
          ranges: [{ topic: 'a', partition: 0, from: 0, to: bytes }],
          offsets: bytes,
          bytes,
          runner: 'lambda',
        },
      ],
      partitions: [{ topic: 'a', partition: 0, from: 0, to: bytes, bytesPerOffset: 1, storedRatio: 1 }],
    });
    expect(e.lambda.invocations).toBe(3 + 2);
    expect(e.step_functions.state_transitions).toBe(TRANSITIONS.per_run.length + 2 + 3 * 2);
  });

  it("lists an item's progress objects instead of reading each when it holds many ranges of a topic", () => {
    const item = (n: number) => ({
      ranges: Array.from({ length: n }, (_, p) => ({ topic: 'small', partition: p, from: 0, to: 1 })),
      offsets: n,
      bytes: n * 100,
      runner: 'lambda' as const,
    });
    const partitions = Array.from({ length: 2_500 }, (_, p) => ({
      topic: 'small',
      partition: p,
      from: 0,
      to: 1,
      bytesPerOffset: 100,
      storedRatio: 1,
    }));
    const few = estimateBackup({ ...input, items: [item(PROGRESS_LIST_MIN_RANGES)], partitions });
    const many = estimateBackup({ ...input, items: [item(PROGRESS_LIST_MIN_RANGES + 1)], partitions });
    // At the threshold a GET per range; past it the topic's 2,500 progress objects listed: 3 pages, no GET.
    expect(many.s3.get - few.s3.get).toBe(-PROGRESS_LIST_MIN_RANGES);
    expect(many.s3.list - few.s3.list).toBe(3);
  });
});

describe('the pieces of the estimate', () => {
  it('segments: by size, by age, one PutObject or a multipart upload', () => {
    const opts = { segmentMaxBytes: 32 * MiB, checkpointIntervalSecs: 30, bytesPerSecond: MiB };
    expect(segmentsOf(0, 1, opts)).toEqual({ segments: 0, stored: 0, puts: 0 });
    expect(segmentsOf(1000, 1, opts)).toEqual({ segments: 1, stored: 1000, puts: 1 });
    // 64 MiB stored: 2 segments of 32 MiB, each CreateMultipartUpload + 4 parts + Complete; 64 s of reading
    // at 1 MiB/s would close 2 by age too.
    expect(segmentsOf(64 * MiB, 1, opts)).toEqual({ segments: 2, stored: 64 * MiB, puts: 12 });
    // Slowly read: 300 s at 1 MiB/s closes a segment every 30 s (10), each 3 MiB stored: one PUT each.
    expect(segmentsOf(300 * MiB, 0.1, opts)).toEqual({ segments: 10, stored: 30 * MiB, puts: 10 });
  });

  it('makespan: items in order on the first free worker', () => {
    expect(makespan([10, 1, 1, 1], 2)).toBe(10);
    expect(makespan([3, 3, 3], 2)).toBe(6);
    expect(makespan([], 4)).toBe(0);
  });
});

describe('the price table', () => {
  it('is dated, names its sources, and has every price for every region', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Date.parse(PRICES_AS_OF)).toBeLessThanOrEqual(Date.now());
    expect(Object.keys(PRICES)).toContain('us-east-1');
    for (const [region, row] of Object.entries(PRICES))
      for (const [name, v] of Object.entries(row)) expect(v, `${region} ${name}`).toBeGreaterThan(0);
    expect(pricesFor(undefined)).toMatchObject({ region: 'us-east-1', fallback: false });
  });

  it('the bench rate is dated and names the command that measured it', () => {
    expect(BENCH_BACKUP_RATE.measured_at).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(BENCH_BACKUP_RATE.command).toMatch(/^npm run bench/);
    expect(BENCH_BACKUP_RATE.bytes_per_second).toBeGreaterThan(0);
  });
});
