// Worker-thread entry for parallel runs when pacta runs from its TypeScript sources (vitest,
// tsx): registers tsx (a worker does not inherit its parent's loader) so the TypeScript checker
// and a user's .ts spec load inside the worker, then starts the worker loop. The build needs
// no shim: there the thread starts at the compiled parallel-worker.js (see startWorker).
import { registerSourceLoader } from './source-loader.mjs';

registerSourceLoader();
await import('./parallel-worker.ts');
