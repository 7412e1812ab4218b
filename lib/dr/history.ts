import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { RestoreReport } from '../restore/index.ts';
import { asRestoreReport, parseJson } from './report.ts';

/**
 * Turns a Step Functions execution history (GetExecutionHistory events, fed in order, possibly in several
 * batches while the execution runs) into progress lines for people and a per-state summary for scripts, and
 * works out where a failed execution failed. Pure: no AWS calls.
 */

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'caught';

export interface StepRecord {
  state: string;
  /** Task, Pass, Map, Wait, Fail, ... */
  type: string;
  entered_at: string;
  exited_at: string | null;
  status: StepStatus;
  error: string | null;
  cause: string | null;
  /** Nesting inside Map iterations (0 at the top level). */
  depth: number;
}

export interface StateFailure {
  state: string | null;
  error: string | null;
  cause: string | null;
  event: string;
}

export type ExecutionEnd = {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  at: Date;
  error: string | null;
  cause: string | null;
};

/** Map runs of Distributed Map states that started and have not ended yet. */
export interface MapRun {
  state: string;
  arn: string;
}

const TERMINAL: Record<string, ExecutionEnd['status']> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** States that decide or end rather than do something: tracked, not printed. */
const QUIET_TYPES = new Set(['Choice', 'Succeed']);

/** Events that mean the current state's work failed (a Retry or Catch may still follow). */
function isFailureEvent(type: string): boolean {
  if (type in TERMINAL) return false;
  if (type === 'MapIterationFailed' || type === 'MapIterationAborted') return false;
  return type.endsWith('Failed') || type.endsWith('TimedOut') || type === 'MapRunAborted';
}

/** Events that start (again) the work of a Task state: after a failure, a Retry. */
function isScheduleEvent(type: string): boolean {
  return (
    type === 'TaskScheduled' ||
    type === 'LambdaFunctionScheduled' ||
    type === 'ActivityScheduled' ||
    type === 'MapRunStarted'
  );
}

/** The `...EventDetails` object of an event (each event type has its own field). */
function detailsOf(e: HistoryEvent): Record<string, unknown> {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && typeof v === 'object' && v !== null)
      return v as Record<string, unknown>;
  }
  return {};
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function shorten(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

function clock(d: Date): string {
  return `${d.toISOString().slice(11, 19)}Z`;
}

export function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

export class ExecutionHistory {
  /** Highest event id consumed: the next poll asks only for newer ones. */
  lastEventId = 0;
  startedAt: Date | undefined;
  end: ExecutionEnd | undefined;
  readonly steps: StepRecord[] = [];
  readonly failures: StateFailure[] = [];
  readonly openMapRuns: MapRun[] = [];
  #open: StepRecord[] = [];
  #depth = 0;
  #lastFailState: string | null = null;
  /** The newest state output that carried a `report` (VerifyRestore's), for a failed verification. */
  #reportOutput: string | undefined;

  /** Consumes events (ascending ids; already seen ones are skipped) and returns the progress lines. */
  consume(events: readonly HistoryEvent[], onMapRunEnded?: (run: MapRun) => void): string[] {
    const lines: string[] = [];
    for (const e of events) {
      const id = e.id ?? 0;
      if (id <= this.lastEventId) continue;
      this.lastEventId = id;
      const line = this.#apply(e, onMapRunEnded);
      if (line !== undefined) lines.push(line);
    }
    return lines;
  }

  /** A progress line: `12:00:03Z  +3.1 s  FindBackup  succeeded in 1.2 s`. */
  line(at: Date, state: string | null, text: string, depth = 0): string {
    const since = this.startedAt ? `+${seconds(Math.max(0, at.getTime() - this.startedAt.getTime()))}` : '';
    const who = state === null ? '' : `${'  '.repeat(depth)}${state}`.padEnd(26);
    return `${clock(at)}  ${since.padStart(9)}  ${who}${state === null ? '' : '  '}${text}`.trimEnd();
  }

  #apply(e: HistoryEvent, onMapRunEnded?: (run: MapRun) => void): string | undefined {
    const type = e.type ?? 'Unknown';
    const at = e.timestamp ?? new Date();
    const d = detailsOf(e);
    if (type === 'ExecutionStarted') {
      this.startedAt = at;
      return this.line(at, null, 'execution started');
    }
    const terminal = TERMINAL[type];
    if (terminal) {
      this.end = { status: terminal, at, error: str(d['error']), cause: str(d['cause']) };
      const why = [this.end.error, this.end.cause && shorten(this.end.cause)].filter(Boolean).join(': ');
      return this.line(at, null, `execution ${terminal}${why ? `: ${why}` : ''}`);
    }
    if (type.endsWith('StateEntered')) {
      const name = str(d['name']) ?? '?';
      const stateType = type.slice(0, -'StateEntered'.length);
      const step: StepRecord = {
        state: name,
        type: stateType,
        entered_at: at.toISOString(),
        exited_at: null,
        status: 'running',
        error: null,
        cause: null,
        depth: this.#depth,
      };
      this.steps.push(step);
      this.#open.push(step);
      if (stateType === 'Fail') this.#lastFailState = name;
      return QUIET_TYPES.has(stateType) ? undefined : this.line(at, name, 'entered', step.depth);
    }
    if (type.endsWith('StateExited')) {
      const name = str(d['name']) ?? '?';
      const i = this.#open.findLastIndex((s) => s.state === name);
      const step = i >= 0 ? this.#open.splice(i, 1)[0]! : undefined;
      if (!step) return undefined;
      step.exited_at = at.toISOString();
      const output = d['outputDetails'] as { truncated?: boolean } | undefined;
      const text = str(d['output']);
      if (text?.includes('"report"') && !output?.truncated) this.#reportOutput = text;
      if (QUIET_TYPES.has(step.type)) {
        step.status = 'succeeded';
        return undefined;
      }
      const took = seconds(at.getTime() - Date.parse(step.entered_at));
      if (step.status === 'failed') {
        step.status = 'caught';
        return this.line(
          at,
          name,
          `left after ${took}: its error was caught, the workflow goes on`,
          step.depth,
        );
      }
      step.status = 'succeeded';
      return this.line(at, name, `succeeded in ${took}${detailFor(name, text)}`, step.depth);
    }
    if (type === 'MapIterationStarted') {
      this.#depth++;
      return undefined;
    }
    if (type === 'MapIterationSucceeded' || type === 'MapIterationFailed' || type === 'MapIterationAborted') {
      this.#depth = Math.max(0, this.#depth - 1);
      return undefined;
    }
    if (type === 'MapRunStarted') {
      const step = this.#current();
      const arn = str(d['mapRunArn']);
      if (step?.status === 'failed') step.status = 'running';
      if (step && arn) this.openMapRuns.push({ state: step.state, arn });
      return step ? this.line(at, step.state, 'map run started', step.depth) : undefined;
    }
    if (type === 'MapRunSucceeded' || type === 'MapRunFailed' || type === 'MapRunAborted') {
      const run = this.openMapRuns.pop();
      if (run) onMapRunEnded?.(run);
    }
    if (isFailureEvent(type)) {
      const step = this.#current(str(d['state']));
      const failure: StateFailure = {
        state: step?.state ?? str(d['state']),
        error: str(d['error']),
        cause: str(d['cause']),
        event: type,
      };
      this.failures.push(failure);
      if (step) {
        step.status = 'failed';
        step.error = failure.error;
        step.cause = failure.cause;
      }
      const why = [failure.error ?? type, failure.cause && shorten(failure.cause)].filter(Boolean).join(': ');
      return this.line(at, failure.state, `FAILED: ${why}`, step?.depth ?? 0);
    }
    if (isScheduleEvent(type)) {
      const step = this.#current();
      if (step?.status === 'failed') {
        step.status = 'running';
        return this.line(at, step.state, 'retrying', step.depth);
      }
    }
    return undefined;
  }

  /** The innermost open state that does work (or the one named). */
  #current(name?: string | null): StepRecord | undefined {
    if (name) {
      const named = this.#open.findLast((s) => s.state === name);
      if (named) return named;
    }
    return this.#open.findLast((s) => !QUIET_TYPES.has(s.type));
  }

  /**
   * Where a failed, timed-out or aborted execution stopped: the state whose error the execution ended with
   * (failover and failback catch a step's error, record it and fail with it in their `Failed` state), else the
   * last state that failed, else the Fail state reached; for a timeout or abort, the state that was running.
   */
  failedState(): string | null {
    const end = this.end;
    if (!end || end.status === 'SUCCEEDED') return null;
    if (end.status === 'TIMED_OUT' || end.status === 'ABORTED') {
      return this.#current()?.state ?? this.failures.at(-1)?.state ?? null;
    }
    const same = end.error !== null ? this.failures.findLast((f) => f.error === end.error) : undefined;
    return (
      same?.state ?? this.failures.at(-1)?.state ?? this.#lastFailState ?? this.#current()?.state ?? null
    );
  }

  /** The innermost state running now (null when none is). */
  runningState(): string | null {
    return this.#current()?.state ?? null;
  }

  /** The report a state put in `$.report` (VerifyRestore), when the execution did not end with it. */
  reportInHistory(): RestoreReport | undefined {
    const output = parseJson(this.#reportOutput);
    if (typeof output !== 'object' || output === null) return undefined;
    return asRestoreReport((output as Record<string, unknown>)['report']);
  }
}

/** What a step found, for the states whose output says something people want to see while it runs. */
function detailFor(state: string, output: string | null): string {
  if (output === null) return '';
  const o = parseJson(output);
  if (typeof o !== 'object' || o === null) return '';
  const rec = o as Record<string, Record<string, unknown> | undefined>;
  if (state === 'FindBackup') {
    const b = rec['backup'];
    const id = str(b?.['backup_id']);
    if (!id) return '';
    const age = typeof b?.['age_seconds'] === 'number' ? `, ${seconds(b['age_seconds'] * 1000)} old` : '';
    const skipped = Array.isArray(b?.['skipped']) ? b['skipped'].length : 0;
    return `: backup ${id}${age}${skipped > 0 ? `; skipped ${skipped} not fully replicated` : ''}`;
  }
  if (state === 'FinalizeBackup') {
    const id = str(rec['result']?.['backup_id']);
    return id ? `: backup ${id}` : '';
  }
  return '';
}
