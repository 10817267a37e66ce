/**
 * The entry of each ng.serve pool worker (compiled to dist/serve/worker.js): builds the model,
 * loads the shared weights, then answers batches with forwards under ng.inferenceMode, replayed
 * from a recorded plan for input shapes it has seen before (./plan.ts).
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { setNumThreads } from '../backend/index.js';
import { NodegradError } from '../errors.js';
import { registeredFactory, registeredModels } from '../io/registry.js';
import '../models/index.js';
import { ForwardPlans, type ServedModel } from './plan.js';
import { postable, type RunMessage, type WorkerMessage, type WorkerSetup } from './protocol.js';
import { loadShared, sharedTensors } from './weights.js';

type Factory = (options?: unknown) => unknown;

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `serve.createPool: ${message}`);
}

async function factoryFor(setup: WorkerSetup): Promise<Factory> {
  if (!setup.isModule) {
    const factory = registeredFactory(setup.model);
    if (factory) return factory;
    return fail(
      `no model is registered under '${setup.model}' in the worker (registered: ${registeredModels().join(', ')}); ` +
        `a model registered on the main thread alone is unknown to the workers: give the path of a module whose default export builds it`,
    );
  }
  const module = (await import(setup.model)) as { default?: unknown };
  if (typeof module.default !== 'function') {
    return fail(`${setup.model} must export by default a function that builds the model, got ${typeof module.default}`);
  }
  return module.default as Factory;
}

/** Duck-typed: the model module may come from another copy of nodegrad than this worker's. */
function isModel(value: unknown): value is ServedModel {
  const candidate = value as Partial<Record<'forward' | 'eval', unknown>> | null;
  return typeof candidate?.forward === 'function' && typeof candidate.eval === 'function';
}

/**
 * On Linux a thread's niceness is its own (setpriority of pid 0 is the calling thread), and threads
 * it starts inherit it: set before setNumThreads starts the kernel threads.
 */
function setNiceness(nice: number): void {
  if (process.platform !== 'linux' || nice === getPriority()) return;
  try {
    setPriority(nice);
  } catch (thrown) {
    fail(`workerNice ${nice} could not be set (${(thrown as Error).message}); a negative niceness needs CAP_SYS_NICE`);
  }
}

async function build(setup: WorkerSetup): Promise<ServedModel> {
  setNiceness(setup.nice);
  setNumThreads(setup.threadsPerWorker);
  const model = await (await factoryFor(setup))(setup.modelOptions ?? undefined);
  if (!isModel(model)) return fail(`the factory for '${setup.model}' returned ${typeof model}, not a Module`);
  if (setup.weights) loadShared(model, sharedTensors(setup.weights, setup.weightsSource));
  model.eval();
  return model;
}

function answer(plans: ForwardPlans, request: RunMessage): WorkerMessage {
  return { type: 'result', id: request.id, ...plans.forward(request.parts, request.shape) };
}

const port = parentPort;
if (port) {
  try {
    const plans = new ForwardPlans(await build(workerData as WorkerSetup));
    port.on('message', (request: RunMessage) => {
      let reply: WorkerMessage;
      try {
        reply = answer(plans, request);
      } catch (error) {
        reply = { type: 'error', id: request.id, error: postable(error) };
      }
      port.postMessage(reply, reply.type === 'result' ? [reply.data.buffer as ArrayBuffer] : []);
    });
    port.postMessage({ type: 'ready' } satisfies WorkerMessage);
  } catch (error) {
    port.postMessage({ type: 'failed', error: postable(error) } satisfies WorkerMessage);
  }
}
