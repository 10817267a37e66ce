/** What every example's `main` takes and returns, and the check that runs it from the command line. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ExampleOptions {
  /** Training steps (each example has its own default). */
  steps?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (message: string) => void;
}

export interface ExampleResult {
  /** The training loss of every step, in order. */
  losses: number[];
}

/** True when the module at `url` is the script node was started with (`node dist/examples/<name>.js`). */
export function isMain(url: string): boolean {
  const script = process.argv.at(1);
  return script !== undefined && resolve(script) === fileURLToPath(url);
}
