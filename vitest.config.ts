import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // examples/ import 'nodegrad' as users do; the tests run them against lib/ without a build.
  resolve: { alias: [{ find: /^nodegrad$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
