import { ConfigError } from '../errors.ts';
import { SECRET_KEYS } from './redact.ts';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/;

/**
 * Refuses credentials written into a config that is stored or forwarded (an execution input, the run's
 * `workflow/config.json`): every `sasl_password` or `ssl_key_password`, wherever it is, must be a `${VAR}`
 * reference (without a default value, which would travel and be stored too) or be left out (the workflow merges
 * the Kafka secret). Names the field, never prints the value.
 */
export function assertNoCredentials(raw: unknown, source: string): void {
  const visit = (value: unknown, path: string[]) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, [...path, String(i)]);
    } else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value)) {
        const at = [...path, k];
        if (SECRET_KEYS.has(k) && v !== null && v !== undefined) check(v, at.join('.'));
        else visit(v, at);
      }
  };
  const check = (v: unknown, field: string) => {
    const text = typeof v === 'string' ? v.trim() : undefined;
    const ref = text === undefined ? null : REFERENCE.exec(text);
    if (ref && ref[0] === text && (ref[2] === undefined || ref[2] === ':-')) return;
    const why =
      ref && ref[0] === text
        ? `is a \${VAR} reference with a default value, which would travel in the execution input and be stored with the run`
        : 'is a literal value; a workflow config must not carry credentials (Step Functions keeps every input in the execution history, and the run stores its config)';
    const key = field.split('.').at(-1);
    throw new ConfigError(`${source}: ${field} ${why}`, {
      hint: `Leave ${key} out (the workflow merges the fields of its Kafka secret into the security section), or reference a variable the deployment sets for configs (workflows.configVariables): ${key}: \${KAFKA_PASSWORD}.`,
    });
  };
  visit(raw, []);
}
