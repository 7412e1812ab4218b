/**
 * Turns a synthesized state machine definition (the template's DefinitionString) into one aws-local-stepfunctions
 * runs: CloudFormation tokens become placeholder ARNs, Distributed Maps become inline Maps over the same
 * ItemProcessor (Distributed Map runs its iterations as child executions, which the local runner cannot).
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

const DISTRIBUTED_ONLY = [
  'Label',
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
];

/** Every Distributed Map (at any depth) as an inline Map with the same ItemProcessor. Returns the count. */
export function inlineDistributedMaps(definition: Record<string, unknown>): number {
  let converted = 0;
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const state of Object.values(states)) {
      if (state['Type'] === 'Map') {
        const processor = state['ItemProcessor'] as Record<string, unknown>;
        const config = processor['ProcessorConfig'] as Record<string, unknown> | undefined;
        if (config?.['Mode'] === 'DISTRIBUTED') {
          processor['ProcessorConfig'] = { Mode: 'INLINE' };
          for (const k of DISTRIBUTED_ONLY) delete state[k];
          converted++;
        }
        visit(processor['States'] as Record<string, Record<string, unknown>>);
      }
      if (state['Type'] === 'Parallel') {
        for (const b of state['Branches'] as { States: Record<string, Record<string, unknown>> }[])
          visit(b.States);
      }
    }
  };
  visit(definition['States'] as Record<string, Record<string, unknown>>);
  return converted;
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

export function localDefinition(definitionString: unknown): Record<string, unknown> {
  const d = resolveDefinition(definitionString);
  inlineDistributedMaps(d);
  return d;
}
