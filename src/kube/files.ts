// Reads -f/--filename paths as kubectl does: a file, a folder (its .yaml/.yml/.json files, not
// recursive), an http(s) URL (fetched before reading, see fetchURLs), or "-" for standard input.
import { isAscii } from 'node:buffer';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeLocated, type LocatedObject } from '../core/objects/decode.js';
import type { KubeObject } from '../core/objects/types.js';

/** Bodies of the http(s) -f arguments, fetched by fetchURLs before the synchronous readers run. */
const fetched = new Map<string, string>();

export const isURL = (p: string) => /^https?:\/\//i.test(p);

/** Fetches every http(s) path once, as kubectl's -f URL does; one sentence when one cannot be read. */
export async function fetchURLs(paths: string[], timeoutMs = 30_000): Promise<void> {
  for (const url of paths.filter(isURL)) {
    if (fetched.has(url)) continue;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new InputError(`cannot fetch ${url}: ${why}; check the URL given to -f.`, { cause: err });
    }
    if (!res.ok) throw new InputError(`cannot fetch ${url}: the server answered ${res.status} ${res.statusText}; check the URL given to -f.`);
    fetched.set(url, await res.text());
  }
}

/** Inputs larger than this get progress lines on stderr. */
const PROGRESS_BYTES = 4 * 1024 * 1024;

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
      const text = readText(file);
      const name = file === '-' ? '<stdin>' : file;
      // A big input takes a moment: say so on stderr, and how long it took.
      const big = text.length > PROGRESS_BYTES;
      const t0 = Date.now();
      if (big) process.stderr.write(`reading ${name} (${(text.length / 1e6).toFixed(0)} MB) …\n`);
      const had = objects.length;
      for (const obj of decodeLocated(text, name)) objects.push(obj);
      if (big) process.stderr.write(`read ${objects.length - had} objects from ${name} in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
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
  if (fetched.has(path)) return [path];
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
  const body = fetched.get(file);
  if (body !== undefined) return body;
  try {
    // Dumps are nearly always ASCII: then latin1 gives the same string without UTF-8 decoding (large inputs).
    const bytes = readFileSync(file === '-' ? 0 : file);
    return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  } catch (err) {
    throw new InputError(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message.split('\n')[0]}.`, { cause: err });
  }
}
