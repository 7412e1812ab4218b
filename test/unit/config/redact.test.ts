import { describe, expect, it } from 'vitest';
import { parseBackupConfig, redactConfig } from '../../../lib/config/index.ts';

const YAML = `mode: backup
backup_id: b1
source:
  bootstrap_servers: [kafka:9093]
  security:
    security_protocol: SASL_SSL
    sasl_mechanism: PLAIN
    sasl_username: svc
    sasl_password: hunter2
    ssl_certificate_location: /c.pem
    ssl_key_location: /k.pem
    ssl_key_password: key-secret
  topics:
    include: [orders]
storage:
  path: /backups
`;

describe('redactConfig', () => {
  it('replaces both secrets and keeps everything else', () => {
    const config = parseBackupConfig(YAML, { source: 'b.yaml', env: {} });
    const redacted = redactConfig(config);
    expect(redacted.source.security).toEqual({
      security_protocol: 'SASL_SSL',
      sasl_mechanism: 'PLAIN',
      sasl_username: 'svc',
      sasl_password: '***',
      ssl_certificate_location: '/c.pem',
      ssl_key_location: '/k.pem',
      ssl_key_password: '***',
      ssl_verify_hostname: true,
    });
    expect(JSON.stringify(redacted)).not.toMatch(/hunter2|key-secret/);
    expect({ ...redacted, source: config.source }).toEqual(config);
  });

  it('copies instead of changing the original', () => {
    const config = parseBackupConfig(YAML, { source: 'b.yaml', env: {} });
    const redacted = redactConfig(config);
    expect(config.source.security.sasl_password).toBe('hunter2');
    expect(redacted.source.topics.include).not.toBe(config.source.topics.include);
    expect(redacted.source.topics.include).toEqual(['orders']);
  });

  it('redacts secrets inside lists and leaves absent secrets absent', () => {
    expect(redactConfig({ clusters: [{ sasl_password: 'x', name: 'a' }, { name: 'b' }] })).toEqual({
      clusters: [{ sasl_password: '***', name: 'a' }, { name: 'b' }],
    });
  });
});

describe('registry and SCRAM credentials', () => {
  it('are redacted too', () => {
    expect(
      redactConfig({
        schema_registry: {
          url: 'https://r',
          basic_auth: { username: 'u', password: 'p' },
          bearer: { token: 't' },
        },
        restore: { scram_users: [{ name: 'app', password: 'pw' }] },
      }),
    ).toEqual({
      schema_registry: {
        url: 'https://r',
        basic_auth: { username: 'u', password: '***' },
        bearer: { token: '***' },
      },
      restore: { scram_users: [{ name: 'app', password: '***' }] },
    });
  });
});
