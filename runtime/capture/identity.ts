// runtime/capture/identity.ts — decodes the payload of an ident record
// (`struct capc_ident`, layout in compiler/manifest.ts IDENT_RECORD) into the
// connection's socket as the traced process sees it: addresses as text
// (IPv6 as inet_ntop writes it), ports, unix paths (abstract names as
// `@name`, as ss prints them), fd, inode and cgroup.
import { IDENT_RECORD } from '../../compiler/index.js';
import { ipv6Text } from '../events/resolve.js';
import type { ConnIdent, Endpoint } from '../events/model.js';

const F = IDENT_RECORD.fields;
const LEARNED: Record<number, ConnIdent['learned']> = { 1: 'fd', 2: 'tls-syscall', 3: 'SSL_set_fd' };
const TYPES: Record<number, string> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
/** What an fd that is not a socket is (the inode's S_IFMT >> 12). */
const FILE_TYPES: Record<number, string> = {
  1: 'pipe',
  2: 'char device',
  4: 'directory',
  6: 'block device',
  8: 'file',
  10: 'symlink',
};

function addrText(family: number, b: Buffer): string {
  return family === 10 ? ipv6Text(b) : `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** A unix socket path: up to the first NUL; an abstract name (leading NUL) as `@name`. */
export function unixPathText(b: Buffer, len: number): string {
  const raw = b.subarray(0, Math.min(len, b.length));
  if (!raw.length) return '';
  if (raw[0] === 0) return `@${raw.subarray(1).toString('latin1').replace(/\0/g, '@')}`;
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
}

/** The identity in an ident record's payload; undefined if it is too short or says nothing. */
export function decodeIdent(p: Buffer): ConnIdent | undefined {
  if (p.length < IDENT_RECORD.size) return undefined;
  const state = p.readUInt8(F.state);
  if (state < 1 || state > 3) return undefined;
  const ident: ConnIdent = {
    state: state === 1 ? 'socket' : state === 2 ? 'not-socket' : 'no-fd',
    learned: LEARNED[p.readUInt8(F.how)] ?? 'fd',
    fd: p.readInt32LE(F.fd),
    connected: p.readUInt8(F.connected) !== 0,
    portBound: (p.readUInt8(F.flags) & IDENT_RECORD.flags.portBound) !== 0,
    inode: Number(p.readBigUInt64LE(F.ino)),
    cgroup: Number(p.readBigUInt64LE(F.cgroup)),
    tid: p.readUInt32LE(F.tid),
  };
  const type = p.readUInt16LE(F.type);
  if (state === 2) ident.type = FILE_TYPES[type] ?? type;
  if (state !== 1) return ident;
  const family = p.readUInt16LE(F.family);
  ident.type = TYPES[type] ?? type;
  if (family === 2 || family === 10) {
    ident.family = family === 2 ? 'inet' : 'inet6';
    ident.local = { addr: addrText(family, p.subarray(F.laddr, F.laddr + 16)), port: p.readUInt16LE(F.lport) };
    ident.peer = { addr: addrText(family, p.subarray(F.raddr, F.raddr + 16)), port: p.readUInt16LE(F.rport) };
  } else if (family === 1) {
    ident.family = 'unix';
    const path = (at: number, len: number): Endpoint => ({
      path: unixPathText(p.subarray(at, at + IDENT_RECORD.pathSize), len),
    });
    ident.local = path(F.lpath, p.readUInt16LE(F.lpathLen));
    ident.peer = path(F.rpath, p.readUInt16LE(F.rpathLen));
  } else {
    ident.family = family;
  }
  return ident;
}
