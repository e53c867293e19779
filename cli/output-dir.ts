/**
 * Making the folders the CLI writes into (`check --out`, `txcheck --dot`, `run --data`). Every
 * way this fails is the user's environment, so a UsageError (exit 2) naming the path: a file
 * where a folder is wanted, a folder that cannot be created or written. Folders are created one
 * level at a time: Node's recursive mkdir retries forever under /proc.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './io.ts';

/** Ensures `dir` (resolved against `cwd`) is a writable folder, creating it and its parents; returns its path. */
export function makeOutputDir(cwd: string, dir: string, flag: string): string {
  const full = resolve(cwd, dir);
  const missing: string[] = [];
  let at = full;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way; walk up to name it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UsageError(`${flag} ${dir}: cannot use ${at}: ${code ?? (e as Error).message}`);
    }
    if (st) {
      if (!st.isDirectory()) throw new UsageError(`${flag} ${dir}: ${at} exists and is not a folder`);
      break;
    }
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${flag} ${dir}: cannot create the folder ${d}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (e as Error).message)}`);
    }
  }
  try {
    accessSync(full, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: the folder ${full} is not writable`);
  }
  return full;
}
