/** The native CPU backend: the addon's exports already are the Backend's kernels. */
import type { NativeAddon } from './loader.js';
import type { Backend } from './types.js';

export function nativeBackend(addon: NativeAddon): Backend {
  return { ...addon, name: 'native' };
}
