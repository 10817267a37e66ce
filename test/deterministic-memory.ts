// Imported first by the test files that assert exact ng.memory() deltas: their tensors use V8's
// typed arrays, so only the framework's own releases (recycle, dispose, scopes) and finalizers that run
// when the test yields change the counts. Arena tensors are uncounted when the collector frees them,
// at moments a test cannot control; test/backend/arena.test.ts covers that accounting.
import * as ng from '../lib/index.js';
import { useArena } from '../lib/tensor/storage.js';

ng.backend.getBackend();
useArena(null);
