// Deterministic release archives: the same files give the same bytes, whoever builds them and when.
// Entries are sorted by name, owned by 0:0 with no user/group names, and dated `mtime` (seconds since
// the epoch; package.mjs passes SOURCE_DATE_EPOCH or 1980-01-01). The gzip header carries no time or
// file name and a fixed OS byte. Compression is Node's zlib, so byte-identical archives also need the
// same Node version.
import { crc32 as zlibCrc32, deflateRawSync, gzipSync } from 'node:zlib';

/** @typedef {{ name: string, data: Buffer, mode: number }} Entry */

const sorted = (/** @type {Entry[]} */ entries) => [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

function octal(value, width) {
  // width includes the terminating NUL.
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, '0') + '\0';
}

/** A POSIX ustar archive, gzip-compressed. */
export function targz(/** @type {Entry[]} */ entries, /** @type {number} */ mtime) {
  const blocks = [];
  for (const e of sorted(entries)) {
    if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode & 0o7777, 8), 100, 'ascii');
    h.write(octal(0, 8), 108, 'ascii'); // uid
    h.write(octal(0, 8), 116, 'ascii'); // gid
    h.write(octal(e.data.length, 12), 124, 'ascii');
    h.write(octal(mtime, 12), 136, 'ascii');
    h.write('        ', 148, 'ascii'); // checksum placeholder
    h.write('0', 156, 'ascii'); // regular file
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    h.write(octal(0, 8), 329, 'ascii'); // devmajor
    h.write(octal(0, 8), 337, 'ascii'); // devminor
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    blocks.push(h, e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  const gz = gzipSync(Buffer.concat(blocks), { level: 6 });
  gz.writeUInt32LE(0, 4); // MTIME: none
  gz[9] = 3; // OS: Unix, whatever the building host
  return gz;
}

let table;
function crc32(/** @type {Buffer} */ buf) {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(buf) >>> 0;
  table ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflate), made on "Unix" so the entries keep their modes. */
export function zip(/** @type {Entry[]} */ entries, /** @type {number} */ mtime) {
  const d = new Date(Math.max(mtime, 315532800) * 1000); // DOS dates start in 1980
  const dosTime = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  const dosDate = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const e of sorted(entries)) {
    const name = Buffer.from(e.name, 'utf8');
    const body = deflateRawSync(e.data, { level: 6 });
    const crc = crc32(e.data);
    if (body.length >= 0xffffffff || e.data.length >= 0xffffffff) throw new Error(`zip: ${e.name} needs zip64`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | (e.mode & 0o7777)) << 16) >>> 0, 38); // external attributes: st_mode
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
