import { beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, type ErrorName, RETRIABLE_ERROR_NAMES } from '../../../lib/errors.ts';
import { LAMBDA_SERVICE_ERRORS, TRANSIENT_ERRORS } from '../../../lib/infra/workflows/states.ts';
import { synthWorkflows, type WorkflowName } from '../../support/workflow-stack.ts';
import { allStates, resolveDefinition } from '../../support/workflows.ts';

const NAMES: WorkflowName[] = ['backup', 'failover', 'failback'];
/** Steps that record a failure: they run once, a retry would only delay the failure they report. */
const NOT_RETRIED = new Set(['RecordBackupFailure', 'RecordRestoreFailure']);

interface Retrier {
  ErrorEquals: string[];
}

/** The Retry blocks of every state, at any depth (Map item processors included), of the synthesized definitions. */
function retriers(definitions: Record<WorkflowName, unknown>) {
  const out: { workflow: WorkflowName; state: string; type: string; resource: string; retry: Retrier[] }[] =
    [];
  for (const workflow of NAMES)
    for (const [state, s] of allStates(resolveDefinition(definitions[workflow])))
      out.push({
        workflow,
        state,
        type: String(s['Type']),
        resource: String(s['Resource'] ?? ''),
        retry: (s['Retry'] as Retrier[] | undefined) ?? [],
      });
  return out;
}

describe('workflow Retry lists come from the error table (lib/errors.ts)', () => {
  let states: ReturnType<typeof retriers>;
  beforeAll(() => {
    states = retriers(synthWorkflows().definitions);
  }, 120_000);

  it('the table: KafkaTransientError is retriable, KafkaAccessError (wrong password, unreachable, TLS) is not', () => {
    expect(ERRORS.KafkaTransientError.retriable).toBe(true);
    expect(ERRORS.KafkaAccessError.retriable).toBe(false);
    expect(RETRIABLE_ERROR_NAMES).toContain('KafkaTransientError');
    expect(RETRIABLE_ERROR_NAMES).not.toContain('KafkaAccessError');
    expect(TRANSIENT_ERRORS).toEqual([...RETRIABLE_ERROR_NAMES, ...LAMBDA_SERVICE_ERRORS]);
  });

  it('no Retry of any state matches KafkaAccessError or any other error the table says is not retriable', () => {
    const notRetriable = (Object.keys(ERRORS) as ErrorName[]).filter((n) => !ERRORS[n].retriable);
    expect(notRetriable).toContain('KafkaAccessError');
    const withRetry = states.filter((s) => s.retry.length > 0);
    expect(withRetry.length).toBeGreaterThan(10);
    for (const s of withRetry)
      for (const r of s.retry) {
        expect(r.ErrorEquals, `${s.workflow}/${s.state}`).not.toContain('KafkaAccessError');
        for (const n of notRetriable) expect(r.ErrorEquals, `${s.workflow}/${s.state}`).not.toContain(n);
        expect(r.ErrorEquals, `${s.workflow}/${s.state}: States.ALL would retry everything`).not.toContain(
          'States.ALL',
        );
      }
  });

  it('every Lambda step (but the failure recorders) retries exactly the retriable names plus the Lambda service errors', () => {
    const lambdaSteps = states.filter(
      (s) => s.type === 'Task' && /:Functions[A-Za-z]+[0-9A-F]{8}\/Arn$/.test(s.resource),
    );
    expect(lambdaSteps.length).toBeGreaterThan(10);
    for (const s of lambdaSteps) {
      const transient = s.retry.filter((r) => r.ErrorEquals.includes('Sandbox.Timedout'));
      if (NOT_RETRIED.has(s.state)) {
        expect(transient, `${s.workflow}/${s.state}`).toEqual([]);
        continue;
      }
      expect(transient, `${s.workflow}/${s.state}`).toHaveLength(1);
      expect(transient[0]!.ErrorEquals, `${s.workflow}/${s.state}`).toEqual([...TRANSIENT_ERRORS]);
      expect(transient[0]!.ErrorEquals).toContain('KafkaTransientError');
    }
    // Both workflows that touch Kafka retry a transient Kafka error somewhere: the test above is not vacuous.
    for (const workflow of NAMES)
      expect(
        lambdaSteps.some(
          (s) =>
            s.workflow === workflow && s.retry.some((r) => r.ErrorEquals.includes('KafkaTransientError')),
        ),
        workflow,
      ).toBe(true);
  });
});
