// A .tar.gz of a folder, written with Node alone (ustar headers, gzip): `tar xzf` reads it back.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export function writeTarGz(folder: string, out: string): void {
  const root = basename(folder);
  const blocks: Buffer[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = `${root}/${relative(folder, full)}`;
      const st = statSync(full);
      if (st.isDirectory()) {
        blocks.push(header(`${rel}/`, 0, '5', 0o755, st.mtimeMs));
        walk(full);
      } else {
        const data = readFileSync(full);
        blocks.push(header(rel, data.length, '0', 0o644, st.mtimeMs), data, Buffer.alloc((512 - (data.length % 512)) % 512));
      }
    }
  };
  blocks.push(header(`${root}/`, 0, '5', 0o755, statSync(folder).mtimeMs));
  walk(folder);
  blocks.push(Buffer.alloc(1024));
  writeFileSync(out, gzipSync(Buffer.concat(blocks)));
}

function header(path: string, size: number, type: string, mode: number, mtimeMs: number): Buffer {
  const h = Buffer.alloc(512);
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf('/', path.length - 2 - 0);
    const at = path.slice(0, cut).length > 155 ? -1 : cut;
    if (at <= 0 || Buffer.byteLength(path.slice(at + 1)) > 100) throw new Error(`path too long for a tar archive: ${path}`);
    prefix = path.slice(0, at);
    name = path.slice(at + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(mtimeMs / 1000), 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\u000000', 257, 'binary');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return h;
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\u0000`;
