import { beforeAll, describe, expect, it } from 'vitest';
import { TRANSITIONS } from '../../../lib/plan/estimate.ts';
import { synthWorkflows } from '../../support/workflow-stack.ts';
import { allStates, resolveDefinition } from '../../support/workflows.ts';

// The estimate counts state transitions by state name: each name it counts must be a state of the backup
// workflow as synthesized, or the count follows a state machine that no longer exists.
describe('the state transitions the estimate counts', () => {
  let states: Map<string, unknown>;
  beforeAll(() => {
    states = allStates(resolveDefinition(synthWorkflows().definitions.backup));
  }, 120_000);

  for (const [group, names] of Object.entries(TRANSITIONS))
    it(`${group}: every state is in the backup workflow`, () => {
      for (const name of names) expect([...states.keys()], name).toContain(name);
    });
});
