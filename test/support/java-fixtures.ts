// Fixtures written by Kafka's own Java producer (test/support/java/JavaFixtures.java), and Kafka's own
// DumpLogSegments to see what the broker's log files hold. Both run on the ground's broker jars.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { ensureKafkaJars } from '../../tools/ground/kafka-dist.ts';
import { groundSettings } from '../../tools/ground/settings.ts';
import { ground } from './ground-env.ts';

const run = promisify(execFile);
const JAVA_SOURCE = join(import.meta.dirname, 'java', 'JavaFixtures.java');
/** Short-lived JVMs on two busy cores: C1 only and the serial GC halve their CPU time (measured here). */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** The folder of the running ground's Kafka jars (already downloaded by the ground's start). */
export function kafkaLibDir(): string {
  return ensureKafkaJars(groundSettings().cacheDir, ground().kafkaVersion, (m) =>
    console.error(`[java] ${m}`),
  );
}

export interface JavaRecord {
  topic: string;
  partition: number;
  /** As acknowledged by the broker (RecordMetadata.offset()). */
  offset: number;
  /** RecordMetadata.timestamp(): the producer's CreateTime, or the broker's LogAppendTime. */
  timestamp: number;
  /** codec | log-append-time | committed | aborted | compacted */
  group: string;
  note: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface JavaFixtures {
  kafkaClientsVersion: string;
  /** From the program's start to the JSON, without JVM start and source compilation. */
  elapsedMs: number;
  phasesMs: Record<string, number>;
  topics: { name: string; kind: string; codec: string; configs: Record<string, string> }[];
  transactional: { topic: string; logStart: number; lastStable: number; highWatermark: number };
  compacted: {
    topic: string;
    /** The Java consumer saw exactly `survivors` (the last record of each key) within the bounded wait. */
    fullyCompacted: boolean;
    waitedMs: number;
    logStart: number;
    highWatermark: number;
    survivors: number[];
    heldByJavaConsumer: number[];
  };
  records: JavaRecord[];
}

const bytes = (b64: string | null): Buffer | null => (b64 === null ? null : Buffer.from(b64, 'base64'));

/** Runs JavaFixtures.java (Java source-launch mode) against `bootstrap`, creating topics `<prefix>-*`. */
export async function writeJavaFixtures(bootstrap: string, prefix: string): Promise<JavaFixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'java-fixtures-'));
  const out = join(dir, 'fixtures.json');
  try {
    await run(
      'java',
      ['-Xmx512m', ...JVM_FLAGS, '-cp', `${kafkaLibDir()}/*`, JAVA_SOURCE, bootstrap, prefix, out],
      {
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`JavaFixtures failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    });
    const raw = JSON.parse(readFileSync(out, 'utf8')) as Omit<JavaFixtures, 'records'> & {
      records: (Omit<JavaRecord, 'key' | 'value' | 'headers'> & {
        key: string | null;
        value: string | null;
        headers: { key: string; value: string | null }[];
      })[];
    };
    return {
      ...raw,
      records: raw.records.map((r) => ({
        ...r,
        key: bytes(r.key),
        value: bytes(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: bytes(h.value) })),
      })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The primary broker's log directories, as the broker itself reports them (DescribeLogDirs): right whichever
 * clone or session started the ground that serves the tests.
 */
export async function primaryLogDirs(): Promise<string[]> {
  const admin = new Admin({ clientId: 'java-fixtures', bootstrapBrokers: [ground().primary] });
  try {
    const brokers = await admin.describeLogDirs({ topics: [] });
    return brokers.flatMap((b) => b.results.map((r) => r.logDir));
  } finally {
    await admin.close();
  }
}

export interface DumpedBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  isTransactional: boolean;
  isControl: boolean;
  /** As DumpLogSegments prints it: none, gzip, snappy, lz4, zstd. */
  codec: string;
  timestampType: 'CreateTime' | 'LogAppendTime';
  records: { offset: number; timestamp: number; endTxnMarker?: string }[];
}

/** `<topic>-<partition>` directory name -> batches, over all its segments, in file order. */
export type DumpedLog = Map<string, DumpedBatch[]>;

/**
 * Kafka's DumpLogSegments over the given .log files, with deep iteration (every record's offset; what
 * --print-data-log prints too, minus the payloads). The class moved from kafka.tools (3.x) to
 * org.apache.kafka.tools (4.x, in kafka-tools).
 */
export async function dumpLogSegments(files: string[]): Promise<DumpedLog> {
  const lib = kafkaLibDir();
  let stdout = '';
  for (const mainClass of ['org.apache.kafka.tools.DumpLogSegments', 'kafka.tools.DumpLogSegments']) {
    try {
      ({ stdout } = await run(
        'java',
        [
          '-Xmx256m',
          ...JVM_FLAGS,
          '-cp',
          `${lib}/*`,
          mainClass,
          '--deep-iteration',
          '--files',
          files.join(','),
        ],
        { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      ));
      break;
    } catch (e) {
      if (!/Could not find or load main class/.test(String((e as { stderr?: string }).stderr))) throw e;
    }
  }
  const out: DumpedLog = new Map();
  let batches: DumpedBatch[] | undefined;
  let batch: DumpedBatch | undefined;
  const field = (line: string, name: string): string => {
    const m = new RegExp(`(?:^|\\s)${name}: (\\S+)`).exec(line);
    if (!m) throw new Error(`DumpLogSegments line without ${name}: ${line}`);
    return m[1]!;
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('Dumping ')) {
      const dir = basename(dirname(line.slice('Dumping '.length).trim()));
      batches = out.get(dir) ?? [];
      out.set(dir, batches);
      batch = undefined;
    } else if (line.startsWith('baseOffset: ')) {
      batch = {
        baseOffset: Number(field(line, 'baseOffset')),
        lastOffset: Number(field(line, 'lastOffset')),
        count: Number(field(line, 'count')),
        isTransactional: field(line, 'isTransactional') === 'true',
        isControl: field(line, 'isControl') === 'true',
        codec: field(line, 'compresscodec').toLowerCase(),
        timestampType: / LogAppendTime: /.test(line) ? 'LogAppendTime' : 'CreateTime',
        records: [],
      };
      batches!.push(batch);
    } else if (line.startsWith('| offset: ')) {
      const ts = /(?:CreateTime|LogAppendTime): (-?\d+)/.exec(line);
      const marker = /endTxnMarker: (\S+)/.exec(line);
      batch!.records.push({
        offset: Number(field(line, 'offset')),
        timestamp: Number(ts?.[1] ?? Number.NaN),
        ...(marker ? { endTxnMarker: marker[1]! } : {}),
      });
    }
  }
  return out;
}

/** The .log segment files of `topic`-`partition` on the primary broker, in offset order. */
export async function primaryLogFiles(topic: string, partition = 0): Promise<string[]> {
  const dirs = await primaryLogDirs();
  for (const dir of dirs) {
    const partitionDir = join(dir, `${topic}-${partition}`);
    if (!existsSync(partitionDir)) continue;
    return readdirSync(partitionDir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => join(partitionDir, f));
  }
  throw new Error(`${topic}-${partition} is not under the primary broker's log dirs ${dirs.join(',')}`);
}
