import type { DistributedMapSpec } from './distributed-map.ts';

/**
 * Turns a synthesized state machine definition (the template's DefinitionString) into one aws-local-stepfunctions
 * runs: CloudFormation tokens become placeholder ARNs, Distributed Maps become Task states that
 * test/support/distributed-map.ts runs as Map Runs (the local runner has inline Maps only, without ItemReader and
 * ResultWriter).
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

function resolveToken(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null)
    throw new Error(`unexpected token ${JSON.stringify(value)}`);
  const o = value as Record<string, unknown>;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveToken).join(sep);
  }
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return `arn:aws:placeholder:${REGION}:${ACCOUNT}:${id}/${attr}`;
  }
  if ('Ref' in o) {
    const ref = o['Ref'] as string;
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::Region') return REGION;
    if (ref === 'AWS::AccountId') return ACCOUNT;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return `arn:aws:placeholder:${REGION}:${ACCOUNT}:${ref}`;
  }
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

/** The definition as deployed, tokens replaced by placeholder ARNs. */
export function resolveDefinition(definitionString: unknown): Record<string, unknown> {
  return JSON.parse(resolveToken(definitionString)) as Record<string, unknown>;
}

/** Where the local definition's Task states stand in for Distributed Maps (an activity ARN: never called). */
export const DISTRIBUTED_MAP_RESOURCE = `arn:aws:states:${REGION}:${ACCOUNT}:activity:local-distributed-map`;

/** What a Task state keeps of a Map state: how it connects, where its result goes, how failures are caught. */
const KEPT = [
  'Comment',
  'InputPath',
  'OutputPath',
  'ResultPath',
  'ResultSelector',
  'Next',
  'End',
  'Retry',
  'Catch',
];

/**
 * Every Distributed Map (at any depth) replaced by a Task state of the same name that test/support/distributed-map.ts
 * runs as Step Functions runs a Map Run (items from the ItemReader's object, a child execution per item, results
 * where the ResultWriter points). Returns what each Map was: its reader, selector, writer and ItemProcessor.
 */
export function extractDistributedMaps(definition: Record<string, unknown>): DistributedMapSpec[] {
  const specs: DistributedMapSpec[] = [];
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state['Type'] === 'Map') {
        const processor = state['ItemProcessor'] as Record<string, unknown>;
        const config = processor['ProcessorConfig'] as Record<string, unknown> | undefined;
        const processorStates = processor['States'] as Record<string, Record<string, unknown>>;
        visit(processorStates);
        if (config?.['Mode'] === 'DISTRIBUTED') {
          if (state['ItemBatcher'] || state['Parameters'])
            throw new Error(`${name}: ItemBatcher and Parameters are not emulated`);
          specs.push({
            name,
            label: state['Label'] as string | undefined,
            itemReader: state['ItemReader'] as Record<string, unknown> | undefined,
            itemsPath: state['ItemsPath'] as string | undefined,
            itemSelector: state['ItemSelector'] as Record<string, unknown> | undefined,
            resultWriter: state['ResultWriter'] as Record<string, unknown> | undefined,
            processor: { StartAt: processor['StartAt'] as string, States: processorStates },
            maxConcurrency: Number(state['MaxConcurrency'] ?? 0),
            toleratedFailurePercentage: state['ToleratedFailurePercentage'] as number | undefined,
            toleratedFailureCount: state['ToleratedFailureCount'] as number | undefined,
          });
          // A Map state has no timeout; a Task's default is 60 s in aws-local-stepfunctions: 23 days (what Node's
          // timers hold, 2^31 ms, the limit).
          const task: Record<string, unknown> = {
            Type: 'Task',
            Resource: DISTRIBUTED_MAP_RESOURCE,
            TimeoutSeconds: 2_000_000,
          };
          for (const k of KEPT) if (k in state) task[k] = state[k];
          states[name] = task;
        }
      }
      if (state['Type'] === 'Parallel') {
        for (const b of state['Branches'] as { States: Record<string, Record<string, unknown>> }[])
          visit(b.States);
      }
    }
  };
  visit(definition['States'] as Record<string, Record<string, unknown>>);
  return specs;
}

/** Every state name (at any depth) with its definition. */
export function allStates(definition: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      out.set(name, state);
      if (state['Type'] === 'Map')
        visit((state['ItemProcessor'] as { States: Record<string, Record<string, unknown>> }).States);
      if (state['Type'] === 'Parallel')
        for (const b of state['Branches'] as { States: Record<string, Record<string, unknown>> }[])
          visit(b.States);
    }
  };
  visit(definition['States'] as Record<string, Record<string, unknown>>);
  return out;
}

/** The definition as aws-local-stepfunctions runs it, and the Distributed Maps it emulates (distributed-map.ts). */
export function localDefinition(definitionString: unknown): {
  definition: Record<string, unknown>;
  maps: DistributedMapSpec[];
} {
  const definition = resolveDefinition(definitionString);
  return { definition, maps: extractDistributedMaps(definition) };
}
