// vitest globalSetup for the integration project: starts the ground once, shares its endpoints through env.
import { ALL_SERVICES, startGround, stopGround } from './ground.ts';
import { ensurePythonTool } from './python-tools.ts';
import { endpointsToEnv, groundSettings } from './settings.ts';

let started: string[] = [];

export async function setup(): Promise<void> {
  // moto's server (dr-cli.test.ts) installs from PyPI while the ground starts, not later inside a test's hook.
  const moto = ensurePythonTool(groundSettings().cacheDir, 'moto', (m) => console.error(`[ground] ${m}`));
  // Not the two Schema Registries: the tests that need one start fresh ones of their own (ids are a registry-wide
  // counter, and what a restore keeps depends on it), from the same build (test/support/schema-registries.ts).
  const services = ALL_SERVICES.filter((s) => !s.startsWith('registry'));
  const [ground, tool] = await Promise.allSettled([startGround({ services }), moto]);
  if (ground.status === 'rejected') throw ground.reason;
  started = ground.value.started;
  Object.assign(process.env, endpointsToEnv(ground.value.endpoints));
  if (tool.status === 'rejected') throw tool.reason;
}

export async function teardown(): Promise<void> {
  // Leave services someone else started (e.g. `npm run ground -- start`) running; stop ours.
  if (started.length > 0 && process.env['KEEP_GROUND'] !== '1') await stopGround({ only: started });
}
