// vitest globalSetup for the integration project: starts the ground once, shares its endpoints through env.
import { startGround, stopGround } from './ground.ts';
import { endpointsToEnv } from './settings.ts';

let started: string[] = [];

export async function setup(): Promise<void> {
  const handle = await startGround();
  started = handle.started;
  Object.assign(process.env, endpointsToEnv(handle.endpoints));
}

export async function teardown(): Promise<void> {
  // Leave services someone else started (e.g. `npm run ground -- start`) running; stop ours.
  if (started.length > 0 && process.env['KEEP_GROUND'] !== '1') await stopGround({ only: started });
}
