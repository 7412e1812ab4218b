import { join, resolve } from 'node:path';
import { dirBytes, heartbeat, megabytes, run, seconds } from './processes.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/**
 * The test tools installed from PyPI into cached virtualenvs, by the script that uses each: cfn-lint
 * (scripts/cfn-lint.sh, after the unit tests) and moto's server (scripts/moto-venv.sh, for dr-cli.test.ts).
 */
export type PythonTool = 'cfn-lint' | 'moto';

const TOOLS: Record<PythonTool, { script: string; args: string[]; venv: string }> = {
  'cfn-lint': { script: 'cfn-lint.sh', args: ['--install-only'], venv: 'cfn-lint-venv' },
  moto: { script: 'moto-venv.sh', args: [], venv: 'moto-venv' },
};

/**
 * Installs a Python tool's venv now (nothing to do when it is there), without blocking the event loop, so it
 * downloads while other things do; saying every 10 s how far it got. The scripts take a lock: a test asking for the
 * tool while this runs waits for it instead of installing a second copy.
 */
export async function ensurePythonTool(
  cacheDir: string,
  tool: PythonTool,
  log: (msg: string) => void,
): Promise<void> {
  const t = TOOLS[tool];
  const venv = join(cacheDir, t.venv);
  const t0 = Date.now();
  let announced = false;
  const stop = heartbeat((ms) => {
    announced = true;
    log(`  ${tool} (PyPI): ${megabytes(dirBytes(venv))} installed (${seconds(ms)})`);
  });
  try {
    const r = await run('bash', [join(repoRoot, 'scripts', t.script), ...t.args], {
      env: { ...process.env, KAFKA_BACKUP_CACHE: cacheDir },
      cwd: repoRoot,
    });
    if (r.status !== 0) throw new Error(`installing ${tool} from PyPI failed:\n${r.output.slice(-4000)}`);
    if (announced || /installing/.test(r.output))
      log(`${tool} (PyPI) installed in ${seconds(Date.now() - t0)}`);
  } finally {
    stop();
  }
}
