/**
 * Spec `optimized-commit-ts-tla` as a module whose default export is the spec (worker threads
 * load a bundled spec by its module's default export); the spec itself is in percolator-tla.ts.
 */
export { optimizedCommitTs as default } from './percolator-tla.ts';
