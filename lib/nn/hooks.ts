/**
 * Forward hooks. Modules are called as `module.forward(x)`, so a module with hooks gets an own
 * `forward` accessor that runs the pre-hooks, the module's forward and the forward hooks; removing the
 * last hook removes the accessor again. A module without hooks keeps the prototype's forward: no
 * cost, and Sequential still fuses it (a hooked Conv2d or Linear runs unfused, through its hooks).
 */
import { NodegradError } from '../errors.js';

/** Runs before forward; returning an argument array replaces the arguments. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a hook that returns nothing (void) keeps the value
export type ForwardPreHook<M, Args extends unknown[]> = (module: M, args: Args) => Args | void;
/** Runs after forward; returning a value replaces the output. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a hook that returns nothing (void) keeps the value
export type ForwardHook<M, Args extends unknown[], Out> = (module: M, args: Args, output: Out) => Out | void;

/** Options of Module.registerForwardPreHook and registerForwardHook. */
export interface HookOptions {
  /** Run this hook before the ones already registered (default false: after them). */
  prepend?: boolean;
}

/** What registerForward(Pre)Hook returns: remove() unregisters the hook (a second call does nothing). */
export interface RemovableHandle {
  /** A number unique to this hook registration. */
  readonly id: number;
  /** Unregisters the hook; a second call does nothing. */
  remove(): void;
}

type AnyFunction = (...args: unknown[]) => unknown;
type PreHook = (module: object, args: unknown[]) => unknown;
type PostHook = (module: object, args: unknown[], output: unknown) => unknown;

interface HookState {
  pre: Map<number, PreHook>;
  post: Map<number, PostHook>;
  /** The forward the hooks wrap: the prototype's, or one assigned to the instance. */
  inner: AnyFunction;
  innerIsOwn: boolean;
}

const states = new WeakMap<object, HookState>();
let nextId = 0;

function runHooked(module: object, state: HookState, input: unknown[]): unknown {
  let args = input;
  for (const hook of [...state.pre.values()]) {
    const result = hook(module, args);
    if (result === undefined) continue;
    if (!Array.isArray(result)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `forward pre-hook (${module.constructor.name}): expected the argument array or undefined, got ${typeof result}`,
      );
    }
    args = result;
  }
  let output = state.inner.apply(module, args);
  for (const hook of [...state.post.values()]) {
    const result = hook(module, args, output);
    if (result !== undefined) output = result;
  }
  return output;
}

function install(module: object): HookState {
  const existing = states.get(module);
  if (existing) return existing;
  const state: HookState = {
    pre: new Map(),
    post: new Map(),
    inner: (module as { forward: AnyFunction }).forward,
    innerIsOwn: Object.hasOwn(module, 'forward'),
  };
  const hooked = (...args: unknown[]) => runHooked(module, state, args);
  // An accessor, so that assigning `module.forward = fn` later replaces the wrapped forward, not the hooks.
  Object.defineProperty(module, 'forward', {
    configurable: true,
    enumerable: false,
    get: () => hooked,
    set: (fn: AnyFunction) => {
      state.inner = fn;
      state.innerIsOwn = true;
    },
  });
  states.set(module, state);
  return state;
}

function uninstallIfEmpty(module: object, state: HookState): void {
  if (state.pre.size > 0 || state.post.size > 0 || states.get(module) !== state) return;
  states.delete(module);
  delete (module as { forward?: unknown }).forward;
  if (state.innerIsOwn) (module as { forward: AnyFunction }).forward = state.inner;
}

export function addHook(
  module: object,
  kind: 'pre' | 'post',
  hook: PreHook | PostHook,
  options: HookOptions,
): RemovableHandle {
  const state = install(module);
  const id = nextId++;
  const map = (kind === 'pre' ? state.pre : state.post) as Map<number, PreHook | PostHook>;
  if (options.prepend) {
    const rest = [...map];
    map.clear();
    map.set(id, hook);
    for (const [k, v] of rest) map.set(k, v);
  } else {
    map.set(id, hook);
  }
  return {
    id,
    remove() {
      if (map.delete(id)) uninstallIfEmpty(module, state);
    },
  };
}
