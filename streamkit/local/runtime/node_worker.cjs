/*
 * One local Lambda execution environment for a Node.js function (nodejs20.x, nodejs22.x,
 * nodejs24.x): the Node.js counterpart of worker.py, speaking the same pipe protocol.
 *
 * streamkit.local.runtime.FunctionRuntime starts it as
 *   node <AWS's bootstrap flags> node_worker.cjs <request fd> <response fd>
 * with the function's code folder as working directory and Lambda's environment variables set. It
 * then behaves as AWS Lambda's Node.js runtime does (aws/aws-lambda-nodejs-runtime-interface-client:
 * src/UserFunction.js, Runtime.js, CallbackContext.js, InvokeContext.js, LogPatch.js, Errors.js for
 * nodejs20.x and nodejs22.x; src/function/*, src/context/*, src/runtime/* of its rewrite, which
 * nodejs24.x uses):
 *
 * - Init: loads the handler ("index.handler", "src/app.handler", "index.nested.fn") from index,
 *   index.js (CommonJS, or an ES module under a package.json with "type": "module"), index.mjs or
 *   index.cjs; failures are Runtime.MalformedHandlerName, Runtime.ImportModuleError,
 *   Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound (or the error the module threw), logged as
 *   "<time>\tundefined\tERROR\tUncaught Exception \t{json}" ("Init Error" on nodejs24.x, which also
 *   refuses callback handlers: Runtime.CallbackHandlerDeprecated); then the process exits.
 * - Invoke, in a loop: handler(event, context[, callback]); async handlers, promises, and (up to
 *   nodejs22.x) callback handlers with context.callbackWaitsForEmptyEventLoop, context.succeed /
 *   fail / done, and a non-async handler that never calls back answering null once the event loop
 *   is empty. A thrown or rejected error answers {errorType, errorMessage, trace} and logs
 *   "<time>\t<request id>\tERROR\tInvoke Error \t{errorType, errorMessage, ..., stack}".
 * - Logs: console.log/info (INFO), warn (WARN), error (ERROR), debug (DEBUG), trace (TRACE) and
 *   fatal (FATAL) write one log event each, "<ISO time>Z\t<request id>\t<LEVEL>\t<util.format of the
 *   arguments>", multi-line messages included (the text format of LogPatch.js, as the runtime sends
 *   it to Lambda's telemetry log descriptor; AWS_LAMBDA_LOG_LEVEL filters it as there). Sources:
 *   Lambda Developer Guide, "Log and monitor Node.js Lambda functions"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html, its "Log format" example:
 *   "2019-06-07T19:11:20.562Z\tc793869b-...\tINFO\tEVENT\n{...}"); LogPatch.js. Text written to
 *   process.stdout / process.stderr is shipped line by line, as Lambda does with stdout.
 *
 * Protocol (see worker.py; integers big-endian). Requests, parent to worker: u32 length, then header
 * JSON ({"id", "deadline_ms", "arn"}), "\n", event JSON. Frames, worker to parent on the response
 * pipe: kind (1 byte), u64 timestamp (microseconds since the epoch), u32 length, payload.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const STARTED = performance.now();

// -- the protocol (the same constants as worker.py; tests/test_node_runtime.py checks them) -------
const STDOUT = 'o';
const STDERR = 'e';
const LOG = 'l';
const READY = 'r';
const INIT_ERROR = 'i';
const DONE = 'd';
const FRAME_HEADER_SIZE = 13; // >cQI
const REQUEST_HEADER_SIZE = 4; // >I

if (process.argv.length !== 4) {
  process.stderr.write(
    'This is a local Lambda execution environment: streamkit.local.runtime.FunctionRuntime ' +
      'starts it as `node node_worker.cjs <request fd> <response fd>`.\n',
  );
  process.exit(2);
}
const REQUEST_FD = Number(process.argv[2]);
const RESPONSE_FD = Number(process.argv[3]);

// The runtime's generation: nodejs24.x runs the rewritten runtime interface client.
const RUNTIME = (process.env.AWS_EXECUTION_ENV || '').replace(/^AWS_Lambda_/, '');
const MAJOR = Number((/^nodejs(\d+)\.x$/.exec(RUNTIME) || [])[1] || process.versions.node.split('.')[0]);
const LEGACY = MAJOR < 24;

function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Send one frame, whole, on the response pipe. */
function send(kind, payload, ms = Date.now()) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + body.length);
  frame.write(kind, 0, 'latin1');
  frame.writeBigUInt64BE(BigInt(ms) * 1000n, 1);
  frame.writeUInt32BE(body.length, 9);
  body.copy(frame, FRAME_HEADER_SIZE);
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += fs.writeSync(RESPONSE_FD, frame, offset, frame.length - offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      pause(1);
    }
  }
}

function readExact(size) {
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  while (offset < size) {
    let got;
    try {
      got = fs.readSync(REQUEST_FD, buffer, offset, size - offset, null);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        pause(1);
        continue;
      }
      if (err.code === 'EOF') return null;
      throw err;
    }
    if (got === 0) return null;
    offset += got;
  }
  return buffer;
}

/** The next invocation (blocking, as the environment is frozen between invocations), or null. */
function nextInvocation() {
  const size = readExact(REQUEST_HEADER_SIZE);
  if (size === null) return null;
  const payload = readExact(size.readUInt32BE(0));
  if (payload === null) return null;
  const newline = payload.indexOf(10);
  return {
    header: JSON.parse(payload.subarray(0, newline).toString('utf8')),
    body: payload.subarray(newline + 1).toString('utf8'),
  };
}

function peakKb() {
  try {
    const match = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (match) return Number(match[1]);
  } catch (_) {
    // not Linux
  }
  return Math.ceil(process.resourceUsage().maxRSS);
}

// -- logs (LogPatch.js, text format) --------------------------------------------------------------
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

function logText(level, message, ...params) {
  const date = new Date();
  const line = `${date.toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(message, ...params)}\n`;
  send(LOG, line, date.valueOf());
}

function patchConsole() {
  const priorities = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
  const wanted = (process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase();
  const threshold = priorities[wanted] || priorities.TRACE;
  const nop = () => {};
  const at = (level) =>
    priorities[level] >= threshold ? (msg, ...params) => logText(level, msg, ...params) : nop;
  console.trace = at('TRACE');
  console.debug = at('DEBUG');
  console.info = at('INFO');
  console.log = console.info;
  console.warn = at('WARN');
  console.error = at('ERROR');
  console.fatal = (msg, ...params) => logText('FATAL', msg, ...params);
}

/**
 * process.stdout / process.stderr as writable streams whose text goes, as written, to the parent
 * (one log event per line there), made on first use like Node's own (a pipe stream would cost every
 * cold start milliseconds).
 */
function patchStdio(name, kind, fd) {
  let stream = null;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: true,
    get() {
      if (stream === null) {
        const { Writable } = require('node:stream');
        stream = new Writable({
          write(chunk, _encoding, callback) {
            if (chunk.length) send(kind, chunk);
            callback();
          },
        });
        Object.assign(stream, { fd, isTTY: false, _isStdio: true });
      }
      return stream;
    },
  });
}

// -- errors (Errors.js) ---------------------------------------------------------------------------
function runtimeError(name, build) {
  const cls = build ? build() : class extends Error {};
  Object.defineProperty(cls, 'name', { value: name.replace('Runtime.', '') });
  cls.prototype.name = name;
  return cls;
}
const ImportModuleError = runtimeError('Runtime.ImportModuleError');
const HandlerNotFound = runtimeError('Runtime.HandlerNotFound');
const MalformedHandlerName = runtimeError('Runtime.MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('Runtime.UserCodeSyntaxError', () =>
  class extends Error {
    constructor(original) {
      super(original);
      if (!LEGACY) this.stack = original.stack; // the rewrite keeps the SyntaxError's stack
    }
  },
);
const NodeJsExit = runtimeError('Runtime.NodeJsExit', () =>
  class extends Error {
    constructor() {
      super(
        'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
      );
    }
  },
);
const UnhandledPromiseRejection = runtimeError('Runtime.UnhandledPromiseRejection', () =>
  class extends Error {
    constructor(reason, promise) {
      super(reason);
      this.reason = reason;
      this.promise = promise;
    }
  },
);
const CallbackHandlerDeprecated = runtimeError('Runtime.CallbackHandlerDeprecated');
const CALLBACK_ERROR =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

function isErrorLike(obj) {
  return (
    obj &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string' &&
    obj.name &&
    obj.message &&
    obj.stack
  );
}

/** An error as Invoke returns it: {errorType, errorMessage, trace}. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack === 'string') ret.stack = error.stack.split('\n');
    return ret;
  }
  return error;
}

/** "\t{json}": an error as the runtime logs it. */
function toFormatted(error) {
  try {
    return `\t${JSON.stringify(error, (_key, value) => withEnumerableProperties(value))}`;
  } catch (_) {
    return `\t${JSON.stringify(toRapidResponse(error))}`;
  }
}

function logError(what, err) {
  console.error(what, toFormatted(err instanceof Error ? err : new Error(err)));
}

// -- loading the handler (UserFunction.js) --------------------------------------------------------
function tryRequireFile(file, extension) {
  const candidate = file + (extension || '');
  return fs.existsSync(candidate) ? require(candidate) : undefined;
}

async function tryAwaitImport(file, extension) {
  const candidate = file + (extension || '');
  return fs.existsSync(candidate) ? await import(pathToFileURL(candidate).href) : undefined;
}

function packageTypeIsModule(folder, stop) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(manifest));
      if (pkg) return pkg.type === 'module';
    } catch (err) {
      console.warn(
        `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
        err,
      );
      return false;
    }
  }
  // AWS walks up to "/"; here the walk stops above the code folder (/var/task's place).
  if (folder === '/' || folder === stop) return false;
  return packageTypeIsModule(path.resolve(folder, '..'), stop);
}

async function loadModule(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;
  const typeModule = packageTypeIsModule(path.dirname(lambdaStylePath), path.dirname(appRoot));
  if (!typeModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (typeModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

function resolveHandler(object, nested) {
  return nested.split('.').reduce((value, key) => value && value[key], object);
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, module, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, module);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err);
    if (err && err.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(err);
    throw err;
  }
  let handler = resolveHandler(app, handlerPath);
  if (!handler && !LEGACY && app && typeof app === 'object' && 'default' in app) {
    handler = resolveHandler(app.default, handlerPath);
  }
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  if (!LEGACY && handler.length >= 3) throw new CallbackHandlerDeprecated(CALLBACK_ERROR);
  return handler;
}

// -- answering (RAPIDClient.js) -------------------------------------------------------------------
let current = null; // {id, posted}

function post(id, ok, body, exiting = false) {
  if (current === null || current.id !== id || current.posted) return; // Lambda refuses it
  current.posted = true;
  const meta = { ok, json: true, peak_kb: peakKb() };
  if (exiting) meta.exiting = true;
  send(DONE, `${JSON.stringify(meta)}\n${body}`);
}

function postInvocationResponse(result, id) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    const error = new Error('Unable to stringify response body');
    if (!LEGACY) error.name = 'Runtime.JSONStringifyError';
    throw error;
  }
  post(id, true, body === undefined ? 'null' : body);
}

function postInvocationError(error, id, exiting = false) {
  post(id, false, JSON.stringify(toRapidResponse(error)), exiting);
}

// -- the context object (InvokeContext.js; context-builder.ts on nodejs24.x) ----------------------
function headerData(header) {
  const deadline = header.deadline_ms;
  const data = {
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: header.arn,
    awsRequestId: header.id,
    tenantId: undefined,
  };
  if (!LEGACY) data.xRayTraceId = undefined;
  data.getRemainingTimeInMillis = function getRemainingTimeInMillis() {
    return deadline - Date.now();
  };
  if (!LEGACY) data.w3c = () => Object.freeze({});
  return data;
}

function environmentData() {
  const env = process.env;
  const name = { functionName: env.AWS_LAMBDA_FUNCTION_NAME };
  const version = { functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION };
  return Object.assign(LEGACY ? version : name, LEGACY ? name : version, {
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  });
}

// -- the invoke loop (Runtime.js, CallbackContext.js, BeforeExitListener.js) ----------------------
let beforeExit = null;
process.on('beforeExit', () => {
  const listener = beforeExit;
  if (listener) listener();
});

function scheduleIteration() {
  setImmediate(LEGACY ? handleOnceLegacy : handleOnceCurrent);
}

function takeInvocation() {
  const request = nextInvocation();
  if (request === null) process.exit(0); // the parent closed the request pipe
  current = { id: request.header.id, posted: false };
  globalThis[REQUEST_ID] = request.header.id;
  return request;
}

function callbackContext(id) {
  let waitForEmptyEventLoop = true;
  let completed = false;
  const postError = (err) => {
    logError('Invoke Error', err);
    postInvocationError(err, id);
    scheduleIteration();
  };
  const complete = (result) => {
    if (completed) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    completed = true;
    postInvocationResponse(result, id);
    scheduleIteration();
  };
  const callback = (err, result) => {
    beforeExit = null;
    if (err !== undefined && err !== null) postError(err);
    else if (!waitForEmptyEventLoop) complete(result);
    else beforeExit = () => setImmediate(() => complete(result));
  };
  const done = (err, result) => {
    beforeExit = null;
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  let finished = false;
  const once = (fn) =>
    function firstCallOnly(...args) {
      if (!finished) {
        fn(...args);
        finished = true;
      }
    };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => (err === undefined || err === null ? done('handled') : done(err, null))),
    done: once(done),
  };
  return [once(callback), context, () => (completed = true)];
}

class Runtime {
  constructor(handler) {
    this.handler = handler;
    this.isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  }
}
let runtime = null;

function handleOnceLegacy() {
  const { header, body } = takeInvocation();
  const id = header.id;
  const [callback, context, markCompleted] = callbackContext(id);
  try {
    beforeExit = () => {
      markCompleted();
      if (runtime.isAsync) {
        const error = new NodeJsExit();
        logError('Invoke Error', error);
        postInvocationError(error, id);
      } else {
        postInvocationResponse(null, id);
      }
      scheduleIteration();
    };
    Object.assign(context, environmentData(), headerData(header));
    const result = runtime.handler(JSON.parse(body), context, callback);
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    callback(err);
  }
}

async function handleOnceCurrent() {
  const { header, body } = takeInvocation();
  const id = header.id;
  const context = Object.assign(headerData(header), environmentData());
  try {
    const result = await runtime.handler(JSON.parse(body), context);
    await new Promise((resolve) => setImmediate(resolve));
    postInvocationResponse(result, id);
  } catch (err) {
    await new Promise((resolve) => setImmediate(resolve));
    logError('Invoke Error', err);
    postInvocationError(err, id);
  }
  scheduleIteration();
}

// -- errors outside an invocation's promise chain (index.mjs) -------------------------------------
let initialised = false;

function initFailed(error, exitCode) {
  const meta = { init_ms: performance.now() - STARTED, peak_kb: peakKb() };
  send(INIT_ERROR, `${JSON.stringify(meta)}\n${JSON.stringify(toRapidResponse(error))}`);
  process.exit(exitCode);
}

function failFatally(what, error, exitCode) {
  logError(what, error);
  if (!initialised) initFailed(error, exitCode);
  if (current !== null) postInvocationError(error, current.id, true);
  process.exit(exitCode);
}

process.on('uncaughtException', (error) => failFatally('Uncaught Exception', error, 129));
process.on('unhandledRejection', (reason, promise) =>
  failFatally('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason, promise), 128),
);

// -- start ----------------------------------------------------------------------------------------
function watchParent() {
  const parent = process.ppid;
  // A killed kernel's environments exit too (unref'd: it never keeps the event loop alive).
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();
}

async function main() {
  patchConsole();
  patchStdio('stdout', STDOUT, 1);
  patchStdio('stderr', STDERR, 2);
  watchParent();
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
  } catch (error) {
    logError(LEGACY ? 'Uncaught Exception' : 'Init Error', error);
    initFailed(error, LEGACY ? 129 : 1);
  }
  runtime = new Runtime(handler);
  initialised = true;
  const meta = { init_ms: performance.now() - STARTED, peak_kb: peakKb() };
  send(READY, JSON.stringify(meta));
  scheduleIteration();
}

main();
