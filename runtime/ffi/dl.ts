// runtime/ffi/dl.ts — where the dynamic linker sends a call to an indirect
// function (IFUNC, glibc's strlen, memcpy...) on this machine, asked of
// capc's own process: dlsym on an IFUNC symbol runs its resolver and returns
// the implementation it picked for this CPU. Only for a library capc's
// process has already loaded (dlopen with RTLD_NOLOAD): loading another
// library would run its constructors, as root.
import koffi from './koffi.js';

const RTLD_LAZY = 0x1;
const RTLD_NOLOAD = 0x4;

let loaded: ReturnType<typeof bind> | undefined;

function bind() {
  const libc = koffi.load('libc.so.6'); // glibc 2.34+: dlopen and dlsym are in libc itself
  return {
    dlopen: libc.func('void *dlopen(const char *file, int mode)'),
    dlsym: libc.func('void *dlsym(void *handle, const char *name)'),
    dlclose: libc.func('int dlclose(void *handle)'),
  };
}

/**
 * The address in this process of the function `name` of library `file` resolves to (for an IFUNC: the
 * implementation its resolver picked), or undefined when this process has not loaded the library or it has no
 * such symbol.
 */
export function addressInThisProcess(file: string, name: string): bigint | undefined {
  loaded ??= bind();
  const handle = loaded.dlopen(file, RTLD_LAZY | RTLD_NOLOAD) as unknown;
  if (!handle) return undefined;
  try {
    const p = loaded.dlsym(handle, name) as unknown;
    return p ? (koffi.address(p as never) as bigint) : undefined;
  } finally {
    loaded.dlclose(handle);
  }
}
