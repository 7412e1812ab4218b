import type { z } from 'zod';

/**
 * Wording for zod issues in config errors. It never quotes the offending value: the value may be a password.
 * Messages written on the schema itself take precedence over these.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  const missing = issue.input === undefined;
  switch (issue.code) {
    case 'invalid_type':
      return missing
        ? 'required'
        : `must be ${describeExpected(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'invalid_value': {
      const allowed = issue.values.map(String).join(', ');
      return issue.values.length === 1
        ? `must be ${allowed}`
        : `${missing ? 'required: one' : 'must be one'} of ${allowed}`;
    }
    case 'invalid_union': {
      // A discriminated union reports its whole object as the input, not the discriminator's value.
      const { options, discriminator } = issue as { options?: unknown[]; discriminator?: string };
      if (options && discriminator !== undefined) {
        const absent = (issue.input as Record<string, unknown> | undefined)?.[discriminator] === undefined;
        return `${absent ? 'required: one' : 'must be one'} of ${options.map(String).join(', ')}`;
      }
      return 'is not in any accepted form';
    }
    case 'too_small':
      return describeBound(issue.origin, 'at least', 'more than', issue.minimum, issue.inclusive);
    case 'too_big':
      return describeBound(issue.origin, 'at most', 'less than', issue.maximum, issue.inclusive);
    case 'invalid_format':
      return issue.format === 'regex' ? 'has an invalid format' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_key': {
      // The key's own schema explains what a key here must look like.
      const reasons = issue.issues.map((inner) => inner.message).filter((message) => message !== undefined);
      return reasons.length > 0 ? reasons.join('; ') : 'is not a valid key here';
    }
    default:
      return undefined;
  }
};

function describeBound(
  origin: string,
  inclusiveWord: string,
  exclusiveWord: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
): string {
  const relation = inclusive === false ? exclusiveWord : inclusiveWord;
  if (origin === 'string')
    return bound === 1 && relation === 'at least'
      ? 'must not be empty'
      : `must be ${relation} ${bound} characters`;
  if (origin === 'array') {
    return bound === 1 && relation === 'at least'
      ? 'must not be empty'
      : `must have ${relation} ${bound} items`;
  }
  return `must be ${relation} ${bound}`;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping of keys to values';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** The kind of a value, never the value. */
function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a fractional number';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
