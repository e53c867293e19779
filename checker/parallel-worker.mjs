// Worker-thread entry for parallel BFS: registers tsx so the TypeScript checker (and a user's
// .ts spec) load inside the worker, then starts the worker loop.
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
