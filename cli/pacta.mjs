#!/usr/bin/env node
// The installed `pacta` command: runs the TypeScript CLI through tsx's loader, so users need
// no build step and a user's own `.ts` spec file can be imported by path.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
