import { z } from 'zod';

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2}))?$/;

const EXPECTED = 'must be epoch milliseconds or an ISO-8601 time with a zone, e.g. 2024-12-01T12:00:00Z';

/**
 * Epoch milliseconds from an ISO-8601 string, or undefined if it is not one. A date-time needs an explicit zone:
 * a restore window read in the machine's local time would silently shift by hours. A bare date is UTC midnight.
 */
export function parseIsoTime(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Date.UTC rolls 2024-02-30 over into March; a calendar that does not round-trip was not a real date.
  const calendar = new Date(Date.UTC(y, mo - 1, d));
  if (calendar.getUTCFullYear() !== y || calendar.getUTCMonth() !== mo - 1 || calendar.getUTCDate() !== d) {
    return undefined;
  }
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const millis = Math.floor(Number('0' + (fraction || '.0')) * 1000);
  const offsetMinutes = zoneOffsetMinutes(zone);
  if (offsetMinutes === undefined) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s, millis) - offsetMinutes * 60_000;
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/** A point in time written as epoch milliseconds or ISO-8601, normalized to epoch milliseconds. */
export const TimePoint = z.union([z.number(), z.string()], { error: EXPECTED }).transform((value, ctx) => {
  const millis =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(value.trim())
        ? Number(value)
        : parseIsoTime(value.trim());
  if (millis === undefined || !Number.isSafeInteger(millis) || millis < 0) {
    ctx.addIssue({ code: 'custom', message: EXPECTED });
    return z.NEVER;
  }
  return millis;
});
