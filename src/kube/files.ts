// Reads -f/--filename paths as kubectl does: a file, a folder (its .yaml/.yml/.json files, not
// recursive), or "-" for standard input.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeLocated, type LocatedObject } from '../core/objects/decode.js';
import type { KubeObject } from '../core/objects/types.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function readManifests(paths: string[]): KubeObject[] {
  return readLocated(paths).objects.map((o) => o.object);
}

/** Every object with the file and line it came from; `empty` lists the -f paths that held none, each with why. */
export function readLocated(paths: string[]): { objects: LocatedObject[]; empty: string[] } {
  const objects: LocatedObject[] = [];
  const empty: string[] = [];
  for (const path of paths) {
    const files = expand(path);
    const before = objects.length;
    for (const file of files) {
      for (const obj of decodeLocated(readText(file), file === '-' ? '<stdin>' : file)) objects.push(obj);
    }
    if (objects.length === before) {
      const name = path === '-' ? 'standard input' : path;
      if (path !== '-' && files.length === 0) empty.push(`${name}: no objects were found in it (the folder holds no .yaml, .yml or .json files)`);
      else empty.push(`${name}: no objects were found in it${files.length > 1 ? ` (its ${files.length} files are empty)` : ' (it is empty)'}`);
    }
  }
  return { objects, empty };
}

function expand(path: string): string[] {
  if (path === '-') return ['-'];
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(`the path "${path}" does not exist; check the -f argument.`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => MANIFEST_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(path, name));
}

export function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message.split('\n')[0]}.`, { cause: err });
  }
}
