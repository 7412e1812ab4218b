import type { FlagSpec } from './spec.ts';

// Flags several commands share, described once.

export const FORMAT_FLAG = {
  type: 'string',
  choices: ['table', 'json'],
  default: 'table',
  description:
    'How the result is printed: a table for people, or one JSON document for scripts (errors too: {"format_version", "error": {name, message, hint, exit_code}}).',
} as const satisfies FlagSpec;

export const LOG_FORMAT_FLAG = {
  type: 'string',
  choices: ['text', 'json'],
  defaultText: 'text on a terminal, json lines otherwise',
  description: 'How log lines on stderr look.',
} as const satisfies FlagSpec;

export const METRICS_FLAGS = {
  'metrics-port': {
    type: 'string',
    value: 'N',
    defaultText: "the config's metrics.prometheus_port (none: no metrics served)",
    description: 'Serve Prometheus metrics on http://HOST:N/metrics while the command runs.',
  },
  'metrics-host': {
    type: 'string',
    value: 'HOST',
    defaultText: '$KAFKA_BACKUP_METRICS_HOST, else 127.0.0.1',
    description: 'The address the metrics endpoint listens on.',
  },
  'keep-serving': {
    type: 'boolean',
    description:
      "Keep serving metrics after the run until interrupted (Ctrl-C), so Prometheus scrapes the result (or the config's metrics.keep_serving).",
  },
} as const satisfies Record<string, FlagSpec>;

/** Where a backup location is when it is named on the command line rather than by a config's `storage`. */
export const LOCATION_FLAGS = {
  path: {
    type: 'string',
    value: 'URL',
    description: 'The backup location: s3://bucket/prefix, or a local folder.',
  },
  'backup-id': {
    type: 'string',
    value: 'ID|latest',
    description: 'The backup, or latest for the newest complete one.',
  },
  region: {
    type: 'string',
    value: 'REGION',
    defaultText: '$AWS_REGION, else us-east-1',
    description: "The bucket's AWS region (s3:// locations).",
  },
  's3-endpoint': {
    type: 'string',
    value: 'URL',
    defaultText: '$KAFKA_BACKUP_S3_ENDPOINT, else $AWS_ENDPOINT_URL_S3, else AWS',
    description: 'An S3-compatible server to use instead of AWS S3 (path-style requests).',
  },
} as const satisfies Record<string, FlagSpec>;

/** An encrypted location (storage.encryption in a config): its key, when it is named on the command line. */
export const ENCRYPTION_FLAGS = {
  'key-file': {
    type: 'string',
    value: 'FILE',
    description:
      'The location is encrypted with this key file (32 random bytes, base64: umask 077 && openssl rand -base64 32 > FILE).',
  },
  'kms-key-id': {
    type: 'string',
    value: 'KEY',
    description: 'The location is encrypted with data keys of this AWS KMS key (ARN, alias/NAME or key id).',
  },
} as const satisfies Record<string, FlagSpec>;

export function configFlag(description: string) {
  return {
    type: 'string',
    short: 'c',
    value: 'FILE',
    required: true,
    description,
  } as const satisfies FlagSpec;
}
