// IP and CIDR handling with kube-proxy's exact semantics.
//
// kube-proxy parses addresses with k8s.io/utils/net ParseIPSloppy / ParseCIDRSloppy (a fork of the Go 1.16
// parser that still accepts IPv4 octets with leading zeros, read as decimal) and prints them back with Go's
// net.IP.String(): dotted quad for IPv4 and for IPv4-mapped IPv6, RFC 5952 compressed lowercase for IPv6.
// Family is decided the Go way: an address is IPv4 when To4() succeeds, so "::ffff:1.2.3.4" is IPv4.
// Everything here is written for speed (no regexes, no allocation on the common path) because the model
// normalises every endpoint address.

import type { IPFamily } from '../objects/types.js';

/** 16 bytes, IPv4 stored IPv4-mapped (::ffff:a.b.c.d), as Go's net.IP does after parsing. */
export type IPBytes = Uint8Array;

const DIGIT0 = 48;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Sloppy IPv4 (leading zeros allowed, decimal) over s[start, end), written into out[12..15]. */
function parseIPv4Into(s: string, start: number, end: number, out: Uint8Array): boolean {
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (i >= end) return false;
    if (part > 0) {
      if (s.charCodeAt(i) !== 46 /* . */) return false;
      i++;
    }
    let n = 0;
    const digitsStart = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (!isDigit(c)) break;
      n = n * 10 + (c - DIGIT0);
      if (n > 0xff) return false;
      i++;
    }
    if (i === digitsStart) return false;
    out[12 + part] = n;
  }
  return i === end;
}

function parseIPv4(s: string, start: number, end: number): IPBytes | null {
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  return parseIPv4Into(s, start, end, ip) ? ip : null;
}

/** Go 1.16 parseIPv6 over s[start, end): one "::", hex groups, optional trailing dotted IPv4, no zone. */
function parseIPv6(s: string, start: number, end: number): IPBytes | null {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let p = start;
  if (end - p >= 2 && s.charCodeAt(p) === 58 && s.charCodeAt(p + 1) === 58) {
    ellipsis = 0;
    p += 2;
    if (p === end) return ip;
  }
  let i = 0;
  while (i < 16) {
    // hex number
    let n = 0;
    let c = p;
    while (c < end) {
      const v = hexValue(s.charCodeAt(c));
      if (v < 0) break;
      n = n * 16 + v;
      if (n > 0xffffff) return null;
      c++;
    }
    if (c === p || n > 0xffff) return null;
    if (c < end && s.charCodeAt(c) === 46 /* . */) {
      if (ellipsis < 0 && i !== 12) return null;
      if (i + 4 > 16) return null;
      const v4 = new Uint8Array(16);
      if (!parseIPv4Into(s, p, end, v4)) return null;
      ip[i] = v4[12]!;
      ip[i + 1] = v4[13]!;
      ip[i + 2] = v4[14]!;
      ip[i + 3] = v4[15]!;
      p = end;
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    p = c;
    if (p === end) break;
    if (s.charCodeAt(p) !== 58 || p + 1 === end) return null;
    p++;
    if (s.charCodeAt(p) === 58) {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      p++;
      if (p === end) break;
    }
  }
  if (p !== end) return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const shift = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + shift] = ip[j]!;
    for (let j = ellipsis + shift - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return null;
  }
  return ip;
}

/** netutils.ParseIPSloppy: null when s is not an IP address. */
export function parseIPSloppy(s: string): IPBytes | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) return parseIPv4(s, 0, s.length);
    if (c === 58) return parseIPv6(s, 0, s.length);
  }
  return null;
}

/** Go's To4() != nil: an IPv4 address, including the IPv4-mapped IPv6 form. */
export function isIPv4Bytes(ip: IPBytes): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

export function familyOfBytes(ip: IPBytes): IPFamily {
  return isIPv4Bytes(ip) ? 'IPv4' : 'IPv6';
}

/** Go's net.IP.String(). */
export function formatIP(ip: IPBytes): string {
  if (isIPv4Bytes(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  // longest run of zero groups, first one on a tie, only if it spans at least two groups
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let out = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += '::';
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) {
      out += ':';
    }
    out += ((ip[i]! << 8) | ip[i + 1]!).toString(16);
  }
  return out;
}

export interface ParsedIP {
  ip: string;
  family: IPFamily;
}

/** Parse and print back as kube-proxy does; null for anything that is not an IP. */
export function normalizeIP(s: string): ParsedIP | null {
  const b = parseIPSloppy(s);
  if (b === null) return null;
  return { ip: formatIP(b), family: familyOfBytes(b) };
}

/** utilnet.IsIPv6String: true only for a parseable address that is not IPv4 (or IPv4-mapped). */
export function isIPv6String(s: string): boolean {
  const b = parseIPSloppy(s);
  return b !== null && !isIPv4Bytes(b);
}

export interface ParsedCIDR {
  /** The network as Go's IPNet.String() prints it: host bits cleared, e.g. "10.1.2.0/24". */
  cidr: string;
  family: IPFamily;
  prefix: number;
}

/** netutils.ParseCIDRSloppy followed by IPNet.String(); null when s is not a CIDR. */
export function parseCIDRSloppy(s: string): ParsedCIDR | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  let bits = 32;
  let ip = parseIPv4(s, 0, slash);
  if (ip === null) {
    bits = 128;
    ip = parseIPv6(s, 0, slash);
  }
  if (ip === null) return null;
  let n = 0;
  let i = slash + 1;
  if (i === s.length) return null;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return null;
    n = n * 10 + (c - DIGIT0);
    if (n > 0xffffff) return null;
  }
  if (n > bits) return null;
  // mask the address: for an IPv4 CIDR the prefix counts from byte 12
  const masked = new Uint8Array(ip);
  const offset = bits === 32 ? 12 : 0;
  const from = offset;
  for (let b = from; b < 16; b++) {
    const bitStart = (b - offset) * 8;
    if (bitStart >= n) masked[b] = 0;
    else if (bitStart + 8 > n) masked[b] = masked[b]! & (0xff << (8 - (n - bitStart))) & 0xff;
  }
  if (isIPv4Bytes(masked)) {
    // Go prints an IPv4 network (or an IPv4-mapped one with a 16-byte mask) with an IPv4 prefix length
    const prefix = bits === 32 ? n : n - 96;
    return { cidr: `${formatIP(masked)}/${prefix}`, family: 'IPv4', prefix };
  }
  return { cidr: `${formatIP(masked)}/${n}`, family: 'IPv6', prefix: n };
}

/** net.JoinHostPort(ip, port): brackets around IPv6. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** net.IPNet.Contains, with an IPv4 network matching only IPv4 addresses and IPv6 only IPv6. */
export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCIDRSloppy(cidr);
  const addr = parseIPSloppy(ip);
  if (net === null || addr === null) return false;
  const netAddr = parseIPSloppy(net.cidr.slice(0, net.cidr.indexOf('/')))!;
  const v4 = net.family === 'IPv4';
  if (v4 !== isIPv4Bytes(addr)) return false;
  return prefixEqual(netAddr, addr, v4 ? 12 : 0, net.prefix);
}

function prefixEqual(a: IPBytes, b: IPBytes, offset: number, bits: number): boolean {
  let i = offset;
  let left = bits;
  while (left >= 8) {
    if (a[i] !== b[i]) return false;
    i++;
    left -= 8;
  }
  if (left === 0) return true;
  const mask = (0xff << (8 - left)) & 0xff;
  return (a[i]! & mask) === (b[i]! & mask);
}

/** net.IP.IsLoopback. */
export function isLoopback(ip: string): boolean {
  const b = parseIPSloppy(ip);
  if (b === null) return false;
  if (isIPv4Bytes(b)) return b[12] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}
