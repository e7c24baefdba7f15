// runtime/build/core-btf.ts — the kernel types a compiled object's CO-RE
// relocations reach, as a BTF file of a few hundred bytes made once when the
// object is built (`bpftool gen min_core_btf`), so that loading the object
// does not make libbpf read and parse the kernel's whole BTF (5.4 MB from
// sysfs, read 4 KB at a time: ~15 ms of every start). libbpf takes it as
// bpf_object_open_opts.btf_custom_path (runtime/bpf/load-without-kernel-btf.ts)
// and resolves every relocation against it as against the kernel's: bpftool
// copies each type and member the relocations reach, at the same offsets.
// Kept in the cache under the kernel's key and the SHA-256 of the object,
// sealed like the objects: a file that does not match its name and contents
// is not used, and the load then reads the kernel's own BTF, as before.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cacheSubdir, privateTempDir, readSealedCacheFile, writeSealedCacheFile } from '../files/cache-dir.js';
import { bpftoolPath, btfPath } from './environment.js';

/** Where the minimal BTF of `object` for the kernel keyed `kernel` lives (undefined: no usable cache). */
function coreBtfFile(object: Buffer, kernel: string): string | undefined {
  const dir = cacheSubdir(`kernel-${kernel}`, 'core-btf');
  if (!dir) return undefined;
  return path.join(dir, `${crypto.createHash('sha256').update(object).digest('hex').slice(0, 32)}.btf`);
}

/**
 * Whether `object` (a BPF ELF object) has CO-RE relocations: the length of
 * the core_relo part of its .BTF.ext section (struct btf_ext_header, libbpf's
 * btf.h). Objects without them need no BTF of the kernel's, minimal or not.
 */
export function hasCoreRelocations(object: Buffer): boolean {
  try {
    if (object.readUInt32BE(0) !== 0x7f454c46 || object[4] !== 2 || object[5] !== 1) return false; // ELF64 LE
    const shoff = Number(object.readBigUInt64LE(0x28));
    const shentsize = object.readUInt16LE(0x3a);
    const shnum = object.readUInt16LE(0x3c);
    const shstrndx = object.readUInt16LE(0x3e);
    const section = (i: number) => {
      const at = shoff + i * shentsize;
      return {
        name: object.readUInt32LE(at),
        offset: Number(object.readBigUInt64LE(at + 0x18)),
        size: Number(object.readBigUInt64LE(at + 0x20)),
      };
    };
    const names = section(shstrndx);
    for (let i = 0; i < shnum; i++) {
      const sh = section(i);
      const at = names.offset + sh.name;
      if (object.toString('latin1', at, at + 9) !== '.BTF.ext\0') continue;
      // magic 0xeB9F, version, flags, hdr_len, func_info off/len, line_info off/len, core_relo off/len
      const hdrLen = object.readUInt32LE(sh.offset + 4);
      return hdrLen >= 32 && object.readUInt32LE(sh.offset + 28) > 0;
    }
  } catch {
    /* not an object we can read: say yes, and let libbpf decide */
    return true;
  }
  return false;
}

/** The minimal BTF made for `object` on this kernel, if the cache holds it (checked against its seal). */
export function readCoreBtf(object: Buffer, kernel: string): Buffer | undefined {
  const file = coreBtfFile(object, kernel);
  return file ? readSealedCacheFile(file) : undefined;
}

/**
 * The minimal BTF of the object in `objectFile` (bpftool gen min_core_btf
 * against the kernel's BTF), or undefined when it has no CO-RE relocations or
 * bpftool cannot make it. Never rejects: the BTF is only a speed-up.
 */
export async function makeCoreBtf(objectFile: string): Promise<Buffer | undefined> {
  let work: string | undefined;
  try {
    if (!hasCoreRelocations(fs.readFileSync(objectFile))) return undefined;
    work = privateTempDir('capc-core-btf-');
    const out = path.join(work, 'min.btf');
    await new Promise<void>((resolve, reject) =>
      execFile(bpftoolPath(), ['gen', 'min_core_btf', btfPath(), out, objectFile], { cwd: work }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return fs.readFileSync(out);
  } catch {
    return undefined; // no trusted temporary directory, no bpftool, or bpftool failed
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Keep `btf` as the minimal BTF of `object` on the kernel keyed `kernel` (sealed). */
export function storeCoreBtf(object: Buffer, kernel: string, btf: Buffer): void {
  try {
    const file = coreBtfFile(object, kernel);
    if (file) writeSealedCacheFile(file, btf);
  } catch {
    /* made again by the next build that misses it */
  }
}

/** Make and keep the minimal BTF of a cached `object` unless the cache has it (objects cached before it was kept). */
export async function keepCoreBtf(object: Buffer, kernel: string): Promise<void> {
  if (!hasCoreRelocations(object)) return;
  let work: string | undefined;
  try {
    const file = coreBtfFile(object, kernel);
    if (!file || readSealedCacheFile(file)) return;
    work = privateTempDir('capc-core-btf-object-');
    const obj = path.join(work, 'object.o');
    fs.writeFileSync(obj, object, { mode: 0o600 });
    const btf = await makeCoreBtf(obj);
    if (btf) storeCoreBtf(object, kernel, btf);
  } catch {
    /* no minimal BTF: the load reads the kernel's own */
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }
}
