/**
 * The entry of each ng.serve pool worker (compiled to dist/serve/worker.js): builds the model,
 * loads the shared weights, then answers batches with forwards under ng.inferenceMode.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setNumThreads } from '../backend/index.js';
import { inferenceMode } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { registeredFactory, registeredModels } from '../io/registry.js';
import '../models/index.js';
import type { AnyModule } from '../nn/module.js';
import { fromArray, Tensor } from '../tensor/tensor.js';
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
function isModel(value: unknown): value is AnyModule & { forward(x: Tensor): unknown } {
  const candidate = value as Partial<Record<'forward' | 'eval', unknown>> | null;
  return typeof candidate?.forward === 'function' && typeof candidate.eval === 'function';
}

async function build(setup: WorkerSetup): Promise<AnyModule & { forward(x: Tensor): unknown }> {
  setNumThreads(setup.threadsPerWorker);
  const model = await (await factoryFor(setup))(setup.modelOptions ?? undefined);
  if (!isModel(model)) return fail(`the factory for '${setup.model}' returned ${typeof model}, not a Module`);
  if (setup.weights) loadShared(model, sharedTensors(setup.weights, setup.weightsSource));
  model.eval();
  return model;
}

function answer(model: AnyModule & { forward(x: Tensor): unknown }, request: RunMessage): WorkerMessage {
  const output = inferenceMode(() => {
    const out = model.forward(fromArray(request.data, request.shape));
    if (!(out instanceof Tensor)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `serve.run: ${model.typeName}.forward returned ${typeof out}, not a Tensor; ng.serve serves Tensor → Tensor models`,
      );
    }
    // data() copies out of the arena into a plain buffer, which can be transferred.
    return { data: out.data(), shape: [...out.shape], dtype: out.dtype };
  });
  return { type: 'result', id: request.id, ...output };
}

const port = parentPort;
if (port) {
  try {
    const model = await build(workerData as WorkerSetup);
    port.on('message', (request: RunMessage) => {
      let reply: WorkerMessage;
      try {
        reply = answer(model, request);
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
