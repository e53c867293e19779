import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the TypeScript sources, and so does `import ... from 'pacta-check'` in a test, an
  // example or a spec file a test writes: the `pacta-source` export condition (package.json)
  // resolves the package's own name to its sources, with or without a build in dist/. The
  // other three are Vite's defaults for server code, which a list given here replaces.
  ssr: { resolve: { conditions: ['pacta-source', 'module', 'node', 'development|production'] } },
  // docs/examples/own-protocol/ is a package of its own (a user's), outside pacta's self-reference:
  // its test imports 'pacta-check' by name, resolved here to the same sources.
  resolve: {
    alias: [
      { find: /^pacta-check$/, replacement: fileURLToPath(new URL('./specs/index.ts', import.meta.url)) },
      { find: /^pacta-check\/(checker|impl|traces)$/, replacement: fileURLToPath(new URL('./$1/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['{specs,checker,impl,traces,cli,tests}/**/*.test.ts', 'docs/examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
