// vitest globalSetup for the integration project: starts the ground once, shares its endpoints through env.
import { startGround, stopGround } from './ground.ts';
import { ensurePythonTool } from './python-tools.ts';
import { endpointsToEnv, groundSettings } from './settings.ts';

let started: string[] = [];

export async function setup(): Promise<void> {
  // moto's server (dr-cli.test.ts) installs from PyPI while the ground starts, not later inside a test's hook.
  const moto = ensurePythonTool(groundSettings().cacheDir, 'moto', (m) => console.error(`[ground] ${m}`));
  const [ground, tool] = await Promise.allSettled([startGround(), moto]);
  if (ground.status === 'rejected') throw ground.reason;
  started = ground.value.started;
  Object.assign(process.env, endpointsToEnv(ground.value.endpoints));
  if (tool.status === 'rejected') throw tool.reason;
}

export async function teardown(): Promise<void> {
  // Leave services someone else started (e.g. `npm run ground -- start`) running; stop ours.
  if (started.length > 0 && process.env['KEEP_GROUND'] !== '1') await stopGround({ only: started });
}
