import { describe, expect, it } from 'vitest';
import { editDistance, suggestKey } from '../../../lib/config/did-you-mean.ts';

const SECURITY_KEYS = [
  'security_protocol',
  'sasl_mechanism',
  'sasl_username',
  'sasl_password',
  'ssl_ca_location',
  'ssl_certificate_location',
  'ssl_key_location',
];

describe('suggestKey', () => {
  it('suggests a key within two edits, ignoring case', () => {
    expect(suggestKey('sasl_mechansim', SECURITY_KEYS)).toBe('sasl_mechanism');
    expect(suggestKey('security.protocol', SECURITY_KEYS)).toBe('security_protocol');
    expect(suggestKey('SASL_USERNAME', SECURITY_KEYS)).toBe('sasl_username');
  });

  it('suggests a key sharing the beginning', () => {
    expect(suggestKey('sasl_mech', SECURITY_KEYS)).toBe('sasl_mechanism');
    expect(suggestKey('ssl_ca_cert', SECURITY_KEYS)).toBe('ssl_ca_location');
    expect(suggestKey('checkpoint_interval', ['checkpoint_interval_secs', 'compression'])).toBe(
      'checkpoint_interval_secs',
    );
  });

  it('suggests nothing when no key is close', () => {
    expect(suggestKey('flux_capacitor', SECURITY_KEYS)).toBeUndefined();
    expect(suggestKey('ssl', SECURITY_KEYS)).toBeUndefined();
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});
