/** Keys whose values are credentials: never logged, printed or put in an error message. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'sasl_password',
  'ssl_key_password',
  'password',
  'token',
]);

export const REDACTED = '***';

/** A deep copy of `config` with every secret value replaced by `***`, safe to log or print in a plan. */
export function redactConfig<T>(config: T): T {
  return redact(config) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      SECRET_KEYS.has(key) && child !== undefined && child !== null ? REDACTED : redact(child),
    ]),
  );
}
