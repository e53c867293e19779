/** `pacta`: the spec contract and the bundled protocols. */
export * from './core/index.ts';
export { bundledSpecs, loadBundledSpec } from './catalogue.ts';
