// Reads -f/--filename paths as kubectl does: a file, a folder (its .yaml/.yml/.json files, not
// recursive), or "-" for standard input.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeManifests } from '../core/objects/decode.js';
import type { KubeObject } from '../core/objects/types.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function readManifests(paths: string[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const path of paths) {
    for (const file of expand(path)) {
      for (const obj of decodeManifests(readText(file), file === '-' ? '<stdin>' : file)) out.push(obj);
    }
  }
  return out;
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
