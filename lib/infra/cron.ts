/**
 * Translates a standard 5-field cron expression (the Kubernetes CronJob / operator `schedule` syntax:
 * `minute hour day-of-month month day-of-week`) into an EventBridge Scheduler expression, which has six fields
 * (a year at the end), numbers days of the week 1-7 from Sunday instead of 0-7, and needs `?` in exactly one of
 * day-of-month and day-of-week.
 *
 * Standard cron fires when EITHER restricted day field matches; EventBridge cannot say that, so an expression
 * restricting both day fields is refused rather than silently narrowed.
 */

export class CronError extends Error {
  override name = 'CronError';
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value of names[0]. */
  namesBase?: number;
}

const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldDef = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldDef = { name: 'month', min: 1, max: 12, names: MONTHS, namesBase: 1 };
// 7 is Sunday too in standard cron.
const DAY_OF_WEEK: FieldDef = { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesBase: 0 };

/** `cron(0 * * * ? *)` for `0 * * * *`: the string `ScheduleExpression.expression()` takes. */
export function toEventBridgeCron(expression: string): string {
  return `cron(${toEventBridgeCronFields(expression)})`;
}

/** The six EventBridge fields, space-separated, without `cron(...)`. */
export function toEventBridgeCronFields(expression: string): string {
  const trimmed = expression.trim();
  if (trimmed === '@reboot') throw new CronError(`"${expression}": @reboot has no meaning for a schedule`);
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5) {
    throw new CronError(
      `"${expression}": must have 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}` +
        (fields.length === 6 ? '; EventBridge 6-field expressions are written without the year here' : ''),
    );
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const where = (field: FieldDef, message: string) =>
    new CronError(`"${expression}": ${field.name}: ${message}`);

  const out = {
    minute: numericField(minute, MINUTE, where, 0),
    hour: numericField(hour, HOUR, where, 0),
    dom: numericField(dom, DAY_OF_MONTH, where, 1),
    month: numericField(month, MONTH, where, 1),
  };
  const domRestricted = dom !== '*';
  const dowRestricted = dow !== '*';
  if (domRestricted && dowRestricted) {
    throw new CronError(
      `"${expression}": day-of-month and day-of-week are both restricted; cron runs when either matches, ` +
        'which EventBridge cannot express: use two schedules',
    );
  }
  const dowOut = dowRestricted ? daysOfWeek(dow, where) : '?';
  const domOut = dowRestricted ? '?' : out.dom;
  return `${out.minute} ${out.hour} ${domOut} ${out.month} ${dowOut} *`;
}

type Where = (field: FieldDef, message: string) => CronError;

/** Minute, hour, day-of-month, month: same numbering in both syntaxes; `*\/n` becomes `first/n`. */
function numericField(text: string, field: FieldDef, where: Where, first: number): string {
  if (text === '*') return '*';
  const parts = text.split(',');
  for (const part of parts) parseItem(part, field, where); // validates
  return parts
    .map((part) => {
      const step = /^\*\/(\d+)$/.exec(part);
      if (step) return `${first}/${step[1]}`;
      return part.toUpperCase();
    })
    .join(',');
}

interface Item {
  from: number;
  to: number;
  step: number;
}

function parseItem(part: string, field: FieldDef, where: Where): Item {
  const match = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/.exec(part);
  if (!match) throw where(field, `"${part}" is not a value, range, list or step`);
  const [, range, stepText] = match as unknown as [string, string, string | undefined];
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1) throw where(field, `step in "${part}" must be at least 1`);
  if (range === '*') return { from: field.min, to: field.max === 7 ? 6 : field.max, step };
  const [fromText, toText] = range.split('-') as [string, string | undefined];
  const from = value(fromText, field, where);
  const to = toText === undefined ? (stepText === undefined ? from : field.max) : value(toText, field, where);
  if (to < from) throw where(field, `range "${part}" runs backwards`);
  return { from, to, step };
}

function value(text: string, field: FieldDef, where: Where): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max) throw where(field, `${n} is outside ${field.min}-${field.max}`);
    return n;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) {
    throw where(
      field,
      field.names
        ? `"${text}" is neither a number nor one of ${field.names.join(', ')}`
        : `"${text}" is not a number`,
    );
  }
  return index + (field.namesBase ?? 0);
}

/**
 * Day-of-week to EventBridge: expanded to a set of days, written as names (no numbering to get wrong). One
 * `<day>#<n>` (EventBridge's and Quartz's "the n-th such day of the month", e.g. `MON#1` the first Monday) is taken
 * too, alone: EventBridge writes it with its own day numbers (1 = Sunday), `2#1`.
 */
function daysOfWeek(text: string, where: Where): string {
  const nth = /^([0-9A-Za-z]+)#([0-9]+)$/.exec(text);
  if (nth) {
    const day = value(nth[1]!, DAY_OF_WEEK, where) % 7;
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw where(DAY_OF_WEEK, `"${text}": the n-th day of the month is 1 to 5, not ${n}`);
    return `${day + 1}#${n}`;
  }
  if (text.includes('#'))
    throw where(DAY_OF_WEEK, `"${text}": <day>#<n> (e.g. MON#1) must stand alone, without lists or ranges`);
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const { from, to, step } = parseItem(part, DAY_OF_WEEK, where);
    for (let d = from; d <= to; d += step) days.add(d % 7);
  }
  const sorted = [...days].sort((a, b) => a - b);
  if (sorted.length === 7) return '*';
  const contiguous = sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
  if (contiguous && sorted.length >= 3) return `${DAYS[sorted[0]!]}-${DAYS[sorted.at(-1)!]}`;
  return sorted.map((d) => DAYS[d]).join(',');
}
