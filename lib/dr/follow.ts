import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ExecutionHistory, type MapRun } from './history.ts';
import { isTransient } from './sfn.ts';

/** One page of GetExecutionHistory. */
export type HistoryPage = { events: HistoryEvent[]; nextToken: string | undefined };
export type FetchPage = (nextToken: string | undefined) => Promise<HistoryPage>;

/**
 * The events newer than `afterId`, in ascending order. Asks newest first (reverseOrder) and stops paging at the
 * first page that reaches an event already seen, so each poll reads only what is new; a server that ignores
 * reverseOrder (moto does) returns ascending pages, which the same loop handles.
 */
export async function newEvents(fetch: FetchPage, afterId: number): Promise<HistoryEvent[]> {
  const byId = new Map<number, HistoryEvent>();
  let token: string | undefined;
  do {
    const page = await fetch(token);
    let reachedSeen = false;
    for (const e of page.events) {
      const id = e.id ?? 0;
      if (id > afterId) byId.set(id, e);
      else reachedSeen = true;
    }
    if (reachedSeen) break;
    token = page.nextToken;
  } while (token);
  return [...byId.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

export interface FollowOptions {
  /** Progress lines as they happen. */
  onLine: (line: string) => void;
  /** Aborted by Ctrl-C: following stops, the execution goes on. */
  signal: AbortSignal;
  /** Keep polling until the execution ends (false: read what there is now and return). */
  follow: boolean;
  minPollMs?: number;
  maxPollMs?: number;
}

export interface FollowResult {
  history: ExecutionHistory;
  execution: DescribeExecutionCommandOutput;
  /** Ctrl-C stopped following before the execution ended. */
  interrupted: boolean;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads an execution's history and, with `follow`, polls it until the execution ends: each poll asks only for
 * new events, quickly (minPollMs) after a change and backing off to maxPollMs while nothing happens. A Distributed
 * Map's progress (items succeeded/failed of its map run) is printed when its counts change. Throttling and
 * network blips are retried with the same backoff; other errors are thrown.
 */
export async function followExecution(
  client: SFNClient,
  executionArn: string,
  opts: FollowOptions,
): Promise<FollowResult> {
  const history = new ExecutionHistory();
  const min = opts.minPollMs ?? 1000;
  const max = opts.maxPollMs ?? 10_000;
  const send = { abortSignal: opts.signal };
  const mapCounts = new Map<string, string>();
  let mapRunsDenied = false;
  let interval = min;
  let transientFailures = 0;

  const mapRunProgress = async (run: MapRun, at?: Date) => {
    if (mapRunsDenied) return;
    try {
      const r = await client.send(new DescribeMapRunCommand({ mapRunArn: run.arn }), send);
      const c = r.itemCounts;
      if (!c) return;
      const text = `map run: ${c.succeeded ?? 0} of ${c.total ?? 0} items succeeded${c.failed ? `, ${c.failed} failed` : ''}${c.running ? `, ${c.running} running` : ''}${c.timedOut ? `, ${c.timedOut} timed out` : ''}${c.aborted ? `, ${c.aborted} aborted` : ''}`;
      if (mapCounts.get(run.arn) === text) return;
      mapCounts.set(run.arn, text);
      opts.onLine(history.line(at ?? new Date(), run.state, text));
    } catch (e) {
      if (opts.signal.aborted) return;
      // Progress is a nicety: without states:DescribeMapRun (or on a blip) the map state's end still shows.
      mapRunsDenied = !isTransient(e);
    }
  };

  for (;;) {
    try {
      const events = await newEvents(async (nextToken) => {
        const page = await client.send(
          new GetExecutionHistoryCommand({
            executionArn,
            reverseOrder: true,
            maxResults: 1000,
            includeExecutionData: true,
            ...(nextToken ? { nextToken } : {}),
          }),
          send,
        );
        return { events: page.events ?? [], nextToken: page.nextToken };
      }, history.lastEventId);
      for (const e of events) {
        // One at a time: a map run's final counts are printed where it ended, before the states after it.
        const ended: MapRun[] = [];
        for (const line of history.consume([e], (run) => ended.push(run))) opts.onLine(line);
        for (const run of ended) await mapRunProgress(run, e.timestamp);
      }
      for (const run of history.openMapRuns) await mapRunProgress(run);
      transientFailures = 0;
      interval = events.length > 0 ? min : Math.min(max, Math.round(interval * 1.5));
      if (history.end || !opts.follow) break;
    } catch (e) {
      if (opts.signal.aborted) break;
      if (!isTransient(e) || ++transientFailures > 5) throw e;
      interval = Math.min(max, interval * 2);
    }
    await sleep(interval, opts.signal);
    if (opts.signal.aborted) break;
  }
  // The final word (status, output, error) even when interrupted: describe without the aborted signal.
  const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
  return { history, execution, interrupted: opts.signal.aborted && !history.end };
}
