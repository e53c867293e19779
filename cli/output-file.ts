/**
 * The files the CLI writes where the user says (`show -o`, `minimize -o`, the traces `check`
 * writes into `--out`). Every way this fails is the user's environment, so a UsageError
 * (exit 2) naming the path and what was expected: a folder where a file is wanted, a folder
 * that does not exist, no permission. The path is checked before the work that produces the
 * file, so a long `minimize` does not end in a refusal to write.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './io.ts';

/** Resolves `file` against `cwd` and checks that a file can be written there; returns the path. */
export function outputFilePath(cwd: string, file: string, flag: string): string {
  const full = resolve(cwd, file);
  const st = statSync(full, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new UsageError(`${flag} ${file}: ${full} is a folder; ${flag} expects the path of a file to write`);
  const folder = dirname(full);
  let up;
  try {
    up = statSync(folder, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`${flag} ${file}: cannot use the folder ${folder}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!up) throw new UsageError(`${flag} ${file}: the folder ${folder} does not exist`);
  if (!up.isDirectory()) throw new UsageError(`${flag} ${file}: ${folder} is not a folder`);
  return full;
}

/** Writes `text` to `full` (a path from {@link outputFilePath}); a failure names `flag` and the path. */
export function writeOutputFile(full: string, text: string, flag: string): void {
  try {
    writeFileSync(full, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR' ? 'it is a folder; a file was expected'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOENT' ? 'no file can be created there (ENOENT)'
      : code === 'ENOSPC' ? 'no space left on the device'
      : (code ?? (e as Error).message);
    throw new UsageError(`${flag}: cannot write ${full}: ${why}`);
  }
}
