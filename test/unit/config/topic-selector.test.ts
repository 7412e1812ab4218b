import { describe, expect, it } from 'vitest';
import { matchesGlob, selectTopics } from '../../../lib/config/index.ts';

describe('matchesGlob', () => {
  it('matches * against any run of characters, including none', () => {
    expect(matchesGlob('events-*', 'events-eu')).toBe(true);
    expect(matchesGlob('events-*', 'events-')).toBe(true);
    expect(matchesGlob('*', '')).toBe(true);
    expect(matchesGlob('events-*', 'old-events-eu')).toBe(false);
  });

  it('matches ? against exactly one character', () => {
    expect(matchesGlob('log-?', 'log-1')).toBe(true);
    expect(matchesGlob('log-?', 'log-')).toBe(false);
    expect(matchesGlob('log-?', 'log-12')).toBe(false);
  });

  it('takes every other character literally', () => {
    expect(matchesGlob('a.b', 'a.b')).toBe(true);
    expect(matchesGlob('a.b', 'axb')).toBe(false);
    expect(matchesGlob('app(1)+[x]', 'app(1)+[x]')).toBe(true);
    expect(matchesGlob('app(1)+', 'app11')).toBe(false);
    expect(matchesGlob('^a$', '^a$')).toBe(true);
  });

  it('matches the whole name, case-sensitively', () => {
    expect(matchesGlob('orders', 'orders-v2')).toBe(false);
    expect(matchesGlob('Orders', 'orders')).toBe(false);
  });
});

describe('selectTopics', () => {
  const available = [
    'payments',
    'orders',
    '__consumer_offsets',
    '__transaction_state',
    '_schemas',
    'events-2',
    'events-1',
  ];

  it('returns matching topics sorted, without internal topics for a catch-all', () => {
    expect(selectTopics(available, ['*'], [])).toEqual({
      selected: ['_schemas', 'events-1', 'events-2', 'orders', 'payments'],
      missing: [],
    });
  });

  it('selects internal topics through a pattern starting with __ or their literal name', () => {
    expect(selectTopics(available, ['__*'], []).selected).toEqual([
      '__consumer_offsets',
      '__transaction_state',
    ]);
    expect(selectTopics(available, ['orders', '__consumer_offsets'], []).selected).toEqual([
      '__consumer_offsets',
      'orders',
    ]);
    expect(selectTopics(available, ['*', '__transaction_state'], []).selected).toEqual([
      '__transaction_state',
      '_schemas',
      'events-1',
      'events-2',
      'orders',
      'payments',
    ]);
    expect(selectTopics(available, ['*_*'], []).selected).toEqual(['_schemas']);
  });

  it('drops topics any exclude pattern matches', () => {
    expect(selectTopics(available, ['*'], ['events-*', '_schemas']).selected).toEqual(['orders', 'payments']);
    expect(selectTopics(available, ['__*'], ['__consumer_offsets']).selected).toEqual([
      '__transaction_state',
    ]);
  });

  it('reports literal includes that name no topic, once each, and never globs', () => {
    expect(selectTopics(available, ['orders', 'refunds', 'audit-*', 'refunds', 'fraud'], [])).toEqual({
      selected: ['orders'],
      missing: ['refunds', 'fraud'],
    });
  });

  it('does not list a topic twice when several patterns match it', () => {
    expect(selectTopics(available, ['orders', 'ord*', '*s'], []).selected).toEqual([
      '_schemas',
      'orders',
      'payments',
    ]);
  });
});
