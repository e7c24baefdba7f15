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

/** The minimal BTF made for `object` on this kernel, if the cache holds it (checked against its seal). */
export function readCoreBtf(object: Buffer, kernel: string): Buffer | undefined {
  const file = coreBtfFile(object, kernel);
  return file ? readSealedCacheFile(file) : undefined;
}

/**
 * Make and keep the minimal BTF of `object` (at `objectFile` on disk, or
 * written to a private directory for bpftool) unless the cache has it. Only a
 * speed-up: when bpftool fails, nothing is kept and loads read the kernel's BTF.
 */
export async function keepCoreBtf(object: Buffer, kernel: string, objectFile?: string): Promise<void> {
  const file = coreBtfFile(object, kernel);
  if (!file || readSealedCacheFile(file)) return;
  const work = privateTempDir('capc-core-btf-');
  try {
    const obj = objectFile ?? path.join(work, 'object.o');
    if (!objectFile) fs.writeFileSync(obj, object, { mode: 0o600 });
    const out = path.join(work, 'min.btf');
    await new Promise<void>((resolve, reject) =>
      execFile(bpftoolPath(), ['gen', 'min_core_btf', btfPath(), out, obj], { cwd: work }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    writeSealedCacheFile(file, fs.readFileSync(out));
  } catch {
    /* no minimal BTF: the load reads the kernel's own */
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
