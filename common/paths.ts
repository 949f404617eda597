/**
 * Files shipped beside the code (Lua, SQL migrations, rule configs) are read from the
 * project root, so the same path works from `tsx` on sources and from `node dist/…`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  // dist/ has no package.json, so this lands on the project root from both trees.
  return dir;
}

const root = findRoot(dirname(fileURLToPath(import.meta.url)));

export function projectPath(...parts: string[]): string {
  return resolve(root, ...parts);
}
