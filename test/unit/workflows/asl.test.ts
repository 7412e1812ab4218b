import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../../lib/workflow/names.ts';
import { synthWorkflows, type WorkflowName } from '../../support/workflow-stack.ts';
import { allStates, extractDistributedMaps, resolveDefinition } from '../../support/workflows.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  opts?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: unknown[]; errorsText: (sep?: string) => string };

/** The workflows with Distributed Maps; the drill has none. */
const NAMES: WorkflowName[] = ['backup', 'failover', 'failback'];

describe('workflow state machines', () => {
  let definitions: Record<WorkflowName, unknown>;
  beforeAll(() => {
    definitions = synthWorkflows().definitions;
  }, 120_000);

  for (const name of NAMES) {
    it(`${name}: the synthesized definition passes asl-validator`, () => {
      const d = resolveDefinition(definitions[name]);
      const r = aslValidator(d, { checkPaths: true, checkArn: true });
      expect(r.errorsText('\n'), JSON.stringify(d, null, 1).slice(0, 2000)).toBe('');
      expect(r.isValid).toBe(true);
    });

    it(`${name}: the local variant (each Distributed Map a Task, its processor a machine of its own) passes asl-validator too`, () => {
      const d = resolveDefinition(definitions[name]);
      const maps = extractDistributedMaps(d);
      expect(maps.length).toBeGreaterThan(0);
      expect(aslValidator(d, { checkPaths: true, checkArn: true }).errorsText('\n')).toBe('');
      for (const m of maps) {
        expect(allStates(d).get(m.name)).toMatchObject({
          Type: 'Task',
          Catch: [{ ErrorEquals: ['States.ALL'] }],
        });
        expect(aslValidator(m.processor, { checkPaths: true, checkArn: true }).errorsText('\n')).toBe('');
      }
    });

    it(`${name}: the Distributed Maps read their items from and write their results to the bucket, by the pointer the step before returned`, () => {
      const d = resolveDefinition(definitions[name]);
      const maps = [...allStates(d)].filter(([, s]) => s['Type'] === 'Map' && s['Label']);
      expect(maps.map(([n]) => n).sort()).toEqual(
        name === 'backup'
          ? ['BackupPartitions']
          : name === 'failover'
            ? ['RestorePartitions']
            : ['BackupPartitions', 'RestorePartitions'],
      );
      for (const [mapName, m] of maps) {
        const pointer = mapName === 'BackupPartitions' ? '$.plan.map' : '$.prepared.map';
        expect(m['ItemsPath']).toBeUndefined();
        expect(m['ItemReader']).toEqual({
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { 'Bucket.$': `${pointer}.items.bucket`, 'Key.$': `${pointer}.items.key` },
        });
        expect(m['ResultWriter']).toEqual({
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { 'Bucket.$': `${pointer}.results.bucket`, 'Prefix.$': `${pointer}.results.prefix` },
        });
        // Each iteration still gets what it needs from the state, the item from the object.
        expect(m['ItemSelector']).toMatchObject({
          'config_ref.$': `${pointer.replace('.map', '')}.config_ref`,
          'item.$': '$$.Map.Item.Value',
        });
      }
      // The steps after the restore Map get the Map Run's manifest, not the items or the results themselves.
      if (name !== 'backup')
        for (const step of ['MapOffsets', 'VerifyRestore'])
          expect(allStates(d).get(step)!['Parameters']).toMatchObject({ 'results.$': '$.restored' });
    });

    it(`${name}: JSONPath only, Distributed Maps with bounded concurrency and standard child executions`, () => {
      const d = resolveDefinition(definitions[name]);
      expect(d['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
      const maps = [...allStates(d).values()].filter(
        (s) =>
          s['Type'] === 'Map' &&
          (s['ItemProcessor'] as { ProcessorConfig?: { Mode?: string } }).ProcessorConfig?.Mode ===
            'DISTRIBUTED',
      );
      expect(maps.length).toBeGreaterThan(0);
      for (const m of maps) {
        expect(m['MaxConcurrency']).toBe(8);
        expect((m['ItemProcessor'] as { ProcessorConfig: unknown }).ProcessorConfig).toEqual({
          Mode: 'DISTRIBUTED',
          ExecutionType: 'STANDARD',
        });
      }
    });
  }

  it('asl-validator rejects a definition with a dangling transition (the checks above can fail)', () => {
    const d = resolveDefinition(definitions.backup);
    (d['States'] as Record<string, Record<string, unknown>>)['PlanBackup']!['Next'] = 'NoSuchState';
    expect(aslValidator(d, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });

  it('every Lambda task invokes one step function; the Fargate tasks run the CLI step command', () => {
    const seen = new Set<string>();
    for (const name of NAMES) {
      for (const [stateName, s] of allStates(resolveDefinition(definitions[name]))) {
        if (s['Type'] !== 'Task') continue;
        const resource = String(s['Resource']);
        if (resource.includes('ecs:runTask.sync')) {
          const overrides = (
            s['Parameters'] as { Overrides: { ContainerOverrides: Record<string, unknown>[] } }
          ).Overrides.ContainerOverrides[0]!;
          expect(overrides['Command']).toEqual([
            'step',
            stateName.startsWith('Backup') ? 'backup-partition' : 'restore-partition',
          ]);
          expect(JSON.stringify(overrides['Environment'])).toContain('States.JsonToString($)');
          continue;
        }
        const m = /Functions([A-Za-z]+)[0-9A-F]{8}\/Arn$/.exec(resource);
        if (m) seen.add(m[1]!);
      }
    }
    for (const [, s] of allStates(resolveDefinition(definitions.drill))) {
      const m = /Functions([A-Za-z]+)[0-9A-F]{8}\/Arn$/.exec(String(s['Resource'] ?? ''));
      if (s['Type'] === 'Task' && m) seen.add(m[1]!);
    }
    const pascal = (s: string) =>
      s
        .split('-')
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('');
    expect([...seen].sort()).toEqual(STEP_NAMES.map(pascal).sort());
  });

  it('the backup worker loops on its continuation and every step can fail into the failure path', () => {
    const states = allStates(resolveDefinition(definitions.backup));
    expect(states.get('PartitionBackedUp?')).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.progress.done', BooleanEquals: true, Next: 'PartitionBackedUp' }],
      Default: 'BackupPartition',
    });
    for (const s of ['PlanBackup', 'BackupPartitions', 'FinalizeBackup'])
      expect(states.get(s)?.['Catch']).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordBackupFailure' },
      ]);
    expect(states.get('Failed')).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error' });
  });

  it('drill: passes asl-validator; RunDrill runs once, any error of it goes to CleanUpDrill, then the failure tail', () => {
    const d = resolveDefinition(definitions.drill);
    const r = aslValidator(d, { checkPaths: true, checkArn: true });
    expect(r.errorsText('\n')).toBe('');
    expect(d['QueryLanguage'] ?? 'JSONPath').toBe('JSONPath');
    const states = allStates(d);
    expect(states.get('ScratchPrefix')).toMatchObject({
      Type: 'Pass',
      Parameters: { 'prefix.$': "States.Format('{}-{}.', $.drill.namespace, $$.Execution.Name)" },
      ResultPath: '$.scratch',
    });
    const run = states.get('RunDrill')!;
    expect(run['Parameters']).toMatchObject({
      'scratch_prefix.$': '$.scratch.prefix',
      'drill.$': '$.drill',
      execution: { 'id.$': '$$.Execution.Id', 'name.$': '$$.Execution.Name' },
    });
    // Only the Lambda service's own errors are retried: a drill that ran out of time would run out again.
    const retried = (run['Retry'] as { ErrorEquals: string[] }[]).flatMap((x) => x.ErrorEquals);
    expect(retried).not.toContain('States.Timeout');
    expect(retried).not.toContain('KafkaTransientError');
    expect(run['Catch']).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CleanUpDrill' },
    ]);
    expect(states.get('CleanUpDrill')).toMatchObject({
      Next: 'NotifyFailure',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanup_error', Next: 'NotifyFailure' }],
    });
    expect(states.get('DrillPassed?')).toMatchObject({
      Choices: [{ Variable: '$.result.ok', BooleanEquals: true, Next: 'DrillPassed' }],
      Default: 'NotifyDrillFailed',
    });
    expect(states.get('DrillFailed')).toMatchObject({ Type: 'Fail', Error: 'DrillFailed' });
    // The deployment's drill is the default input: an execution started with {} runs it.
    const defaults = JSON.stringify(states.get('ApplyDefaults'));
    expect(defaults).toContain('kafka-backup-drill');
    expect(defaults).toContain('us-west-2/hourly');
  });
});
