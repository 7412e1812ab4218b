import { spawnSync } from 'node:child_process';

/** A prerequisite the machine lacks, with the exact thing to install. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError';
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return { ok: false, out: String(r.error.message) };
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function requireJava(kafkaVersion: string): void {
  const r = run('java', ['-version']);
  if (!r.ok) {
    throw new MissingPrerequisiteError(
      'Java is not installed (needed to run the local Kafka brokers). Install a JDK 17 or newer, e.g. `apt-get install openjdk-17-jdk-headless`.',
    );
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.out);
  const major = m ? Number(m[1] === '1' ? m[2] : m[1]) : 0;
  const needed = kafkaVersion.startsWith('3.') ? 11 : 17;
  if (major < needed) {
    throw new MissingPrerequisiteError(
      `Kafka ${kafkaVersion} needs Java ${needed}+, found Java ${major}. Install e.g. \`apt-get install openjdk-17-jdk-headless\`.`,
    );
  }
  if (!run('keytool', ['-help']).ok) {
    throw new MissingPrerequisiteError('keytool (part of the JDK) is not on PATH; install a full JDK 17+.');
  }
}

export function requireMaven(): void {
  if (!run('mvn', ['-v']).ok) {
    throw new MissingPrerequisiteError(
      'Maven is not installed (needed once to download the Kafka jars from Maven Central). Install it, e.g. `apt-get install maven`.',
    );
  }
}

export function requireGo(): void {
  const r = run('go', ['version']);
  if (!r.ok) {
    throw new MissingPrerequisiteError(
      'Go is not installed (needed once to build the versitygw S3 server). Install Go 1.24+ from https://go.dev/dl or `apt-get install golang`.',
    );
  }
}
