import { LABELS, type LabelName, type MetricUnit } from './names.ts';
import { type Observation, ObservationRecorder, type ObservationRecorderOptions } from './observations.ts';

export const EMF_NAMESPACE = 'KafkaBackup';

export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: MetricUnit }[];
}

/** One CloudWatch Embedded Metric Format document: `_aws` metadata, then dimension, property and metric values. */
export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: EmfDirective[] };
  [field: string]: unknown;
}

export interface EmfMetricsOptions extends ObservationRecorderOptions {
  /**
   * Receives each document as one JSON line, without the newline. Default: stdout with a newline. Not console.log:
   * in Lambda that prefixes a timestamp and request id, and CloudWatch no longer reads the line as EMF.
   */
  write?: (line: string) => void;
  namespace?: string;
  /** Epoch milliseconds stamped on each document. */
  now?: () => number;
}

/**
 * The recorder for Lambda and other CloudWatch-logged runtimes: no client, no dependency, the log line is the
 * metric. Counters are sent as deltas (read them with the Sum statistic), gauges as values (Maximum or Average).
 */
export class EmfMetrics extends ObservationRecorder {
  readonly #write: (line: string) => void;
  readonly #namespace: string;
  readonly #now: () => number;

  constructor(opts: EmfMetricsOptions = {}) {
    super(opts);
    this.#write = opts.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.#namespace = opts.namespace ?? EMF_NAMESPACE;
    this.#now = opts.now ?? Date.now;
  }

  protected override record(batch: readonly Observation[]): void {
    const docs = emfDocuments(batch, { namespace: this.#namespace, timestamp: this.#now() });
    for (const doc of docs) this.#write(JSON.stringify(doc));
  }
}

/**
 * An event's observations as few documents as possible: one, unless two observations disagree on a field (the same
 * dimension with another value, e.g. both outcomes), since a document holds each field once.
 */
export function emfDocuments(
  batch: readonly Observation[],
  opts: { namespace: string; timestamp: number },
): EmfDocument[] {
  const docs: EmfDocument[] = [];
  let doc: EmfDocument | undefined;
  for (const o of batch) {
    // A zero delta only pre-creates a Prometheus series; CloudWatch has no series to create.
    if (o.metric.kind === 'counter' && o.value === 0) continue;
    const fields: Record<string, string> = {};
    const dimensions: string[] = [];
    for (const [label, value] of Object.entries(o.labels) as [LabelName, string][]) {
      const def = LABELS[label];
      fields[def.emfName] = value;
      if (def.dimension) dimensions.push(def.emfName);
    }
    if (!doc || conflicts(doc, fields, o.metric.name)) {
      doc = { _aws: { Timestamp: opts.timestamp, CloudWatchMetrics: [] } };
      docs.push(doc);
    }
    Object.assign(doc, fields);
    doc[o.metric.name] = o.value;
    const directives = doc._aws.CloudWatchMetrics;
    let directive = directives.find((d) => d.Dimensions[0]?.join() === dimensions.join());
    if (!directive) {
      directive = { Namespace: opts.namespace, Dimensions: [dimensions], Metrics: [] };
      directives.push(directive);
    }
    directive.Metrics.push({ Name: o.metric.name, Unit: o.metric.unit });
  }
  return docs;
}

function conflicts(doc: EmfDocument, fields: Record<string, string>, metricName: string): boolean {
  if (metricName in doc) return true;
  return Object.entries(fields).some(([k, v]) => k in doc && doc[k] !== v);
}
