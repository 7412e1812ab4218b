import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allCommandSpecs, errorDocument, sentence } from '../../../lib/cli/main.ts';
import { runCli, tempDir } from '../../support/cli.ts';

const dir = tempDir('kb-cli-errors-');
const aFile = join(dir, 'not-a-folder');
writeFileSync(aFile, 'hello');
const emptyFolder = join(dir, 'empty');
mkdirSync(emptyFolder);
const badConfig = join(dir, 'bad.yaml');
writeFileSync(
  badConfig,
  'mode: backup\nbackup_id: b\nsource:\n  bootstrap_server: [127.0.0.1:9]\n  topics: { include: [a] }\nstorage: { backend: filesystem, path: /tmp/x }\n',
);
afterAll(() => {
  // tempDir folders live under the OS temp dir; nothing to keep.
});

interface ErrorJson {
  format_version: number;
  error: { name: string; message: string; hint: string | null; exit_code: number };
}

/** A user error as a person and a script see it: sentence-case message and a hint on stderr, no stack trace. */
function expectCleanError(r: { code: number; stderr: string }) {
  expect(r.stderr).toMatch(/^\nerror: [A-Z0-9/"'`-]/);
  expect(r.stderr).toMatch(/\nhint: [A-Z]/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('unexpected error');
}

/** User errors each command can meet without any server, with what the message must name. */
const CASES: { argv: string[]; name: string; code: number; names: string }[] = [
  {
    argv: ['backup', '--config', join(dir, 'missing.yaml')],
    name: 'ConfigError',
    code: 2,
    names: 'missing.yaml',
  },
  { argv: ['backup', '--config', badConfig], name: 'ConfigError', code: 2, names: 'bootstrap_servers' },
  { argv: ['list', '--path', aFile], name: 'StorageAccessError', code: 3, names: aFile },
  {
    argv: ['describe', '--path', aFile, '--backup-id', 'latest'],
    name: 'StorageAccessError',
    code: 3,
    names: aFile,
  },
  {
    argv: ['describe', '--path', emptyFolder, '--backup-id', 'latest'],
    name: 'NotFoundError',
    code: 4,
    names: emptyFolder,
  },
  {
    argv: ['validate', '--path', 's3://', '--backup-id', 'latest'],
    name: 'UserError',
    code: 2,
    names: 's3://',
  },
  { argv: ['restore', '--config', badConfig], name: 'ConfigError', code: 2, names: 'mode' },
  {
    argv: ['offset-reset', 'plan', '--strategy', 'latest'],
    name: 'UsageError',
    code: 2,
    names: '--bootstrap-servers',
  },
  {
    argv: [
      'drill',
      '--records',
      '0',
      '--source-bootstrap',
      'a:1',
      '--target-bootstrap',
      'b:1',
      '--path',
      dir,
    ],
    name: 'UsageError',
    code: 2,
    names: '--records',
  },
  {
    argv: ['dr', 'failover', '--config', badConfig],
    name: 'UsageError',
    code: 2,
    names: '--state-machine-arn',
  },
  {
    argv: [
      'dr',
      'status',
      '--limit',
      'x',
      '--state-machine-arn',
      'arn:aws:states:us-east-1:123456789012:stateMachine:s',
    ],
    name: 'UsageError',
    code: 2,
    names: '--limit',
  },
];

describe('user errors', () => {
  for (const c of CASES)
    it(`${c.argv.slice(0, 2).join(' ')}: ${c.name} naming ${c.names}, as text and as JSON`, async () => {
      const text = await runCli(c.argv);
      expect(text.code).toBe(c.code);
      expectCleanError(text);
      expect(text.stderr).toContain(c.names);
      expect(text.stdout).toBe('');

      const json = await runCli([...c.argv, '--format', 'json']);
      expect(json.code).toBe(c.code);
      const doc = JSON.parse(json.stdout) as ErrorJson;
      expect(doc.format_version).toBe(1);
      expect(doc.error).toEqual({
        name: c.name,
        message: expect.stringMatching(/^[A-Z0-9/"'`-]/),
        hint: expect.stringMatching(/^[A-Z]/),
        exit_code: c.code,
      });
      expect(doc.error.message).toContain(c.names);
    });

  for (const spec of allCommandSpecs())
    it(`${spec.name} --format json: a bad command line is a JSON error on stdout`, async () => {
      const r = await runCli([...spec.name.split(' '), '--bogus-flag', '--format', 'json']);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as ErrorJson;
      expect(doc).toEqual({
        format_version: 1,
        error: {
          name: 'UsageError',
          message: `Unknown flag --bogus-flag for kafka-backup ${spec.name}`,
          hint: `See kafka-backup ${spec.name} --help for its flags.`,
          exit_code: 2,
        },
      });
      expectCleanError(r);
    });

  it('an unexpected error (a bug) keeps its stack on stderr and is UnexpectedError in JSON', () => {
    const doc = errorDocument(new TypeError('x is undefined'));
    expect(doc.error).toEqual({
      name: 'UnexpectedError',
      message: 'Unexpected error (a bug; please report it): x is undefined',
      hint: null,
      exit_code: 1,
    });
  });

  it('starts every message as a sentence, leaving names and paths as they are', () => {
    expect(sentence('invalid object key "a//b"')).toBe('Invalid object key "a//b"');
    expect(sentence('backup_id: must not be empty')).toBe('backup_id: must not be empty');
    expect(sentence('s3://bucket names no prefix')).toBe('s3://bucket names no prefix');
    expect(sentence('orders-restored has 3 partitions')).toBe('orders-restored has 3 partitions');
    expect(sentence('/tmp/x does not exist')).toBe('/tmp/x does not exist');
  });
});
