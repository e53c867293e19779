import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the TypeScript sources, and so does `import ... from 'pacta-check'` in a test, an
  // example or a spec file a test writes: the `pacta-source` export condition (package.json)
  // resolves the package's own name to its sources, with or without a build in dist/. The
  // other three are Vite's defaults for server code, which a list given here replaces.
  ssr: { resolve: { conditions: ['pacta-source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['{specs,checker,impl,traces,cli,tests}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
