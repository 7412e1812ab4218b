// Kafka's own performance tools (ProducerPerformance, ConsumerPerformance) from the ground's classpath: the
// references the benchmark compares against, and the load generator.
import { type Measured, runMeasured } from './measure.ts';

/** Heap for the tools' JVMs, as `npm run ground -- tool` gives them. */
const TOOL_HEAP = '-Xmx512m';

export interface ToolRate {
  records: number;
  records_per_s: number;
  mb_per_s: number;
  /** ConsumerPerformance only: MiB consumed (key + value bytes). */
  mb?: number;
  /** ConsumerPerformance only: the rate over fetch time alone, group join excluded. */
  fetch_mb_per_s?: number;
  fetch_records_per_s?: number;
  run: Measured;
}

function java(lib: string, mainClass: string, args: string[], watch: Record<string, number | undefined>) {
  return runMeasured('java', [TOOL_HEAP, '-cp', `${lib}/*`, mainClass, ...args], { watch });
}

function failed(what: string, run: Measured): Error {
  return new Error(
    `${what} exited with ${run.code}:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`,
  );
}

/**
 * ProducerPerformance with its defaults (acks=all, idempotent, linger.ms=5, batch.size=16384, no compression),
 * each record's value a random line of `payloadFile`, no key.
 */
export async function producerPerf(opts: {
  lib: string;
  bootstrap: string;
  topic: string;
  records: number;
  payloadFile: string;
  props?: string[];
  watch?: Record<string, number | undefined>;
}): Promise<ToolRate> {
  const run = await java(
    opts.lib,
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--bootstrap-server',
      opts.bootstrap,
      '--topic',
      opts.topic,
      '--num-records',
      String(opts.records),
      '--throughput',
      '-1',
      '--payload-file',
      opts.payloadFile,
      '--reporting-interval',
      '60000',
      ...(opts.props?.length ? ['--command-property', ...opts.props] : []),
    ],
    opts.watch ?? {},
  );
  // The last summary: "N records sent, X records/sec (Y MB/sec), …"
  const lines = [...run.stdout.matchAll(/(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/g)];
  const last = lines.at(-1);
  if (run.code !== 0 || !last) throw failed(`ProducerPerformance into ${opts.topic}`, run);
  return {
    records: Number(last[1]),
    records_per_s: Number(last[2]),
    mb_per_s: Number(last[3]),
    run,
  };
}

/** ConsumerPerformance reading `records` records of `topic` from the beginning, in a fresh group. */
export async function consumerPerf(opts: {
  lib: string;
  bootstrap: string;
  topic: string;
  records: number;
  watch?: Record<string, number | undefined>;
}): Promise<ToolRate> {
  const run = await java(
    opts.lib,
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      opts.bootstrap,
      '--topic',
      opts.topic,
      '--num-records',
      String(opts.records),
      '--timeout',
      '60000',
      '--group',
      `bench-reference-${Date.now()}`,
    ],
    opts.watch ?? {},
  );
  // A header line, then one CSV line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
  // nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = run.stdout.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  if (run.code !== 0 || headerAt < 0 || !lines[headerAt + 1])
    throw failed(`ConsumerPerformance on ${opts.topic}`, run);
  const names = lines[headerAt]!.split(',').map((s) => s.trim());
  const values = lines[headerAt + 1]!.split(',').map((s) => s.trim());
  const get = (name: string) => Number(values[names.indexOf(name)]);
  return {
    records: get('data.consumed.in.nMsg'),
    records_per_s: get('nMsg.sec'),
    mb_per_s: get('MB.sec'),
    mb: get('data.consumed.in.MB'),
    fetch_mb_per_s: get('fetch.MB.sec'),
    fetch_records_per_s: get('fetch.nMsg.sec'),
    run,
  };
}
