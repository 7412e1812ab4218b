import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeployedFunction } from '../../support/deployed/assembly.ts';
import { LambdaService, taskRootOf } from '../../support/deployed/lambda-runtime.ts';

// The Lambda stand-in of the deployed-artifact tests (test/integration/deployed-workflows.test.ts) keeps the
// service's limits: a timeout kills, the memory size bounds the heap, an import failure is reported as the runtime
// reports it, an idle environment is reused.
describe('the local Lambda runtime', () => {
  const asset = mkdtempSync(join(tmpdir(), 'kb-fake-asset-'));
  writeFileSync(
    join(asset, 'index.mjs'),
    `let calls = 0;
export const echo = async (event, context) => ({ event, left: context.getRemainingTimeInMillis(), calls: ++calls,
  env: process.env.GREETING, cwd: process.cwd() === process.env.LAMBDA_TASK_ROOT });
export const hang = () => new Promise(() => {});
export const fail = async () => { throw Object.assign(new Error('no'), { name: 'KafkaAccessError' }); };
export const hog = async () => { const a = []; for (;;) a.push(new Array(1e6).fill(Math.random())); };
`,
  );
  writeFileSync(join(asset, 'broken.mjs'), "import 'not-shipped';\nexport const h = () => 1;\n");
  const root = taskRootOf(asset);
  const service = new LambdaService();
  const fn = (handler: string, over: Partial<DeployedFunction> = {}): DeployedFunction => ({
    stack: 'test',
    logicalId: handler.replace('.', ''),
    handler,
    runtime: 'nodejs24.x',
    timeoutS: 5,
    memoryMb: 128,
    environment: { GREETING: 'hello' },
    assetDir: asset,
    roleId: 'Role',
    ...over,
  });
  const opts = { credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, region: 'us-east-1' };
  afterAll(async () => {
    await service.close();
    rmSync(asset, { recursive: true, force: true });
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  it('runs the handler string in the task root with the environment, then reuses the warm environment', async () => {
    const first = await service.invoke(fn('index.echo'), root, { a: 1 }, { ...opts, remainingMs: 1_000 });
    expect(first.result).toMatchObject({ event: { a: 1 }, calls: 1, env: 'hello', cwd: true });
    expect((first.result as { left: number }).left).toBeLessThanOrEqual(1_000);
    expect(first.initMs).toBeGreaterThan(0);
    const second = await service.invoke(fn('index.echo'), root, { a: 2 }, opts);
    expect(second.result).toMatchObject({ event: { a: 2 }, calls: 2 });
    expect(second.initMs).toBe(0);
  });

  it('reports a thrown error by its name, a missing module as Runtime.ImportModuleError', async () => {
    await expect(service.invoke(fn('index.fail'), root, {}, opts)).rejects.toMatchObject({
      name: 'KafkaAccessError',
    });
    await expect(service.invoke(fn('broken.h'), root, {}, opts)).rejects.toMatchObject({
      name: 'Runtime.ImportModuleError',
      message: expect.stringContaining("Cannot find package 'not-shipped'"),
    });
  });

  it('kills a handler at the timeout and one past its memory size', async () => {
    const started = Date.now();
    await expect(service.invoke(fn('index.hang', { timeoutS: 1 }), root, {}, opts)).rejects.toMatchObject({
      name: 'Sandbox.Timedout',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(service.invoke(fn('index.hog', { memoryMb: 64 }), root, {}, opts)).rejects.toMatchObject({
      name: 'Runtime.ExitError',
    });
  }, 60_000);
});
