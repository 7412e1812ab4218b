import { describe, expect, it } from 'vitest';
import { CronError, toEventBridgeCron } from '../../../lib/infra/cron.ts';

describe('toEventBridgeCron', () => {
  it.each([
    // The guide's two schedules.
    ['0 * * * *', 'cron(0 * * * ? *)'],
    ['0 2 * * *', 'cron(0 2 * * ? *)'],
    // Day of month restricted: day of week becomes "?".
    ['30 6 1 * *', 'cron(30 6 1 * ? *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    // Day of week restricted: day of month becomes "?", days are named (EventBridge numbers them 1-7 from Sunday).
    ['0 3 * * 0', 'cron(0 3 ? * SUN *)'],
    ['0 3 * * 7', 'cron(0 3 ? * SUN *)'],
    ['0 3 * * 1-5', 'cron(0 3 ? * MON-FRI *)'],
    ['0 3 * * mon-fri', 'cron(0 3 ? * MON-FRI *)'],
    ['0 3 * * 6,0', 'cron(0 3 ? * SUN,SAT *)'],
    ['0 3 * * 5-7', 'cron(0 3 ? * SUN,FRI,SAT *)'],
    ['0 3 * * */2', 'cron(0 3 ? * SUN,TUE,THU,SAT *)'],
    ['0 3 * * 0-6', 'cron(0 3 ? * * *)'],
    // Steps: "*/n" becomes "first/n".
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 */6 * * *', 'cron(0 0/6 * * ? *)'],
    ['0 0 */2 * *', 'cron(0 0 1/2 * ? *)'],
    ['5-55/10 8-18 * * *', 'cron(5-55/10 8-18 * * ? *)'],
    // Months by number or name.
    ['0 0 1 jan,jul *', 'cron(0 0 1 JAN,JUL ? *)'],
    ['0 0 1 */3 *', 'cron(0 0 1 1/3 ? *)'],
    // Macros.
    ['@hourly', 'cron(0 * * * ? *)'],
    ['@daily', 'cron(0 0 * * ? *)'],
    ['@weekly', 'cron(0 0 ? * SUN *)'],
    ['@monthly', 'cron(0 0 1 * ? *)'],
    ['@yearly', 'cron(0 0 1 1 ? *)'],
    ['  0   2 * *   *  ', 'cron(0 2 * * ? *)'],
    // The n-th weekday of the month (the drill's default: the first Monday), in EventBridge's day numbers.
    ['0 4 * * MON#1', 'cron(0 4 ? * 2#1 *)'],
    ['0 4 * * 0#2', 'cron(0 4 ? * 1#2 *)'],
    ['0 4 * * 7#5', 'cron(0 4 ? * 1#5 *)'],
    ['0 4 * * sat#3', 'cron(0 4 ? * 7#3 *)'],
  ])('%s -> %s', (cron, expected) => {
    expect(toEventBridgeCron(cron)).toBe(expected);
  });

  it.each([
    ['0 * * *', /must have 5 fields .* found 4/],
    ['0 * * * ? *', /found 6; EventBridge 6-field expressions are written without the year/],
    ['60 * * * *', /minute: 60 is outside 0-59/],
    ['0 24 * * *', /hour: 24 is outside 0-23/],
    ['0 0 0 * *', /day-of-month: 0 is outside 1-31/],
    ['0 0 * 13 *', /month: 13 is outside 1-12/],
    ['0 0 * * 8', /day-of-week: 8 is outside 0-7/],
    ['0 0 * * funday', /day-of-week: "funday" is neither a number nor one of SUN/],
    ['0 0 1 * 1', /both restricted; cron runs when either matches/],
    ['0 0 * * 5-1', /range "5-1" runs backwards/],
    ['0 0 * * L', /day-of-week/],
    ['*/0 * * * *', /step in "\*\/0" must be at least 1/],
    ['@reboot', /@reboot/],
    ['0 4 * * MON#6', /the n-th day of the month is 1 to 5, not 6/],
    ['0 4 * * MON#1,TUE', /must stand alone/],
    ['0 4 1 * MON#1', /both restricted/],
  ])('refuses %s', (cron, message) => {
    expect(() => toEventBridgeCron(cron)).toThrow(CronError);
    expect(() => toEventBridgeCron(cron)).toThrow(message);
  });
});
