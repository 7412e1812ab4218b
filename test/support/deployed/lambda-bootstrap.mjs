// A stand-in for the Lambda Node.js runtime's bootstrap (/var/runtime): started in a process of its own, with the
// function's folder (only its asset) as LAMBDA_TASK_ROOT and current directory, it loads the module named by
// _HANDLER ("index.backupPlan": index.mjs|js|cjs, export backupPlan) the way the runtime does, takes one event over
// IPC, calls the handler with a Lambda context whose deadline the parent sets, and sends back the result or the
// error as the runtime reports it (errorType = error.name). Like a Lambda execution environment it then waits for
// the next event (a warm start) until the parent ends it; unlike one, it is not frozen between invocations.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.LAMBDA_TASK_ROOT;
const [moduleName, exportName] = (() => {
  const h = process.env._HANDLER ?? '';
  const dot = h.lastIndexOf('.');
  return [h.slice(0, dot), h.slice(dot + 1)];
})();

const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));
const failure = (e) => ({
  errorType: e?.name || 'Error',
  errorMessage: e && e.message !== undefined ? String(e.message) : String(e),
  stack: e?.stack ? String(e.stack).split('\n') : [],
});

let handler;
const started = performance.now();
try {
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(root, moduleName + ext)).find((f) => existsSync(f));
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${root}`), {
      name: 'Runtime.ImportModuleError',
    });
  const mod = await import(pathToFileURL(file).href);
  handler = mod[exportName];
  if (typeof handler !== 'function')
    throw Object.assign(new Error(`${moduleName}.${exportName} is not a function`), {
      name: 'Runtime.HandlerNotFound',
    });
} catch (e) {
  const f = failure(e);
  // The runtime reports an import failure as Runtime.ImportModuleError with the original message.
  if (f.errorType !== 'Runtime.HandlerNotFound') f.errorType = 'Runtime.ImportModuleError';
  await send({ type: 'init-error', error: f, initMs: performance.now() - started });
  process.exit(1);
}
await send({ type: 'ready', initMs: performance.now() - started });

process.on('message', async ({ event, deadlineMs, requestId, traceId }) => {
  process.env._X_AMZN_TRACE_ID = traceId;
  const fnName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    functionName: fnName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${fnName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
  let message;
  try {
    const result = await handler(event, context);
    message = { type: 'result', result: result === undefined ? null : result };
  } catch (e) {
    message = { type: 'error', error: failure(e) };
  }
  // A marker after the handler's own output, so that the parent knows it has all of it (stdout and IPC are two
  // channels).
  await new Promise((resolve) => process.stdout.write(`\n@@invocation-end ${requestId}\n`, resolve));
  await send(message);
});
