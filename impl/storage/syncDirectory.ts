import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a created or renamed directory entry durable: flushes the directory holding `path`. */
export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
