// runtime/ffi/threads.ts — blocking calls that must overlap, each on a
// pthread of its own: detaching links (close(2) of a link fd,
// bpf_link__destroy) waits in the kernel (an RCU grace period), and N of
// them one after another take N waits. libuv's pool cannot be relied on for
// this: it has 4 threads unless UV_THREADPOOL_SIZE is set before Node first
// uses it, and an ES-module entry point is read through the pool before its
// first line runs (bin/capc's UV_THREADPOOL_SIZE=64 came too late: 30
// uprobe_multi links took ~400 ms to close where 30 threads take ~50-90 ms).
import koffi from './koffi.js';
import { koffiAddress, native, type Ptr } from './libbpf.js';

let bound: ReturnType<typeof bind> | undefined;

function bind() {
  const libc = koffi.load('libc.so.6');
  return {
    dlopen: libc.func('void *dlopen(const char *file, int mode)'),
    dlsym: libc.func('void *dlsym(void *handle, const char *name)'),
    // The start routine is called with `arg` in the first argument register: close(int) and
    // bpf_link__destroy(struct bpf_link *) take exactly that one argument (x86-64 and arm64 ABIs);
    // their int result comes back as the thread's (ignored) return value.
    pthread_create: libc.func('int pthread_create(_Out_ uint64_t *thread, void *attr, void *start, uintptr_t arg)'),
    pthread_join: libc.func('int pthread_join(uint64_t thread, void *ret)'),
  };
}

const RTLD_LAZY = 1;
const RTLD_NOLOAD = 4;

/** The address of a function of libc, or of the libbpf capc loaded (libbpf: its file, as loaded). */
function functionPointer(name: 'close' | 'bpf_link__destroy'): Ptr | null {
  const lib = name === 'close' ? 'libc.so.6' : process.env.CAPC_LIBBPF || 'libbpf.so.1';
  bound ??= bind();
  native(); // libbpf is loaded (and, from CAPC_LIBBPF, trust-checked) before it is looked up
  const handle = bound.dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
  return handle ? (bound.dlsym(handle, name) as Ptr | null) : null;
}

/** A link to detach: a bare link fd (closed), or a libbpf link (bpf_link__destroy). */
export type Detach = { fd: number } | { link: Ptr };

/**
 * Detach every link, each on a new thread, all at once; resolves when all
 * are detached. A thread that cannot be created detaches its link on
 * libuv's pool instead.
 */
export async function detachOnThreads(items: Detach[]): Promise<void> {
  if (!items.length) return;
  const n = native();
  bound ??= bind();
  const onPool = (d: Detach) =>
    new Promise<void>((resolve) =>
      'fd' in d ? n.close.async(d.fd, () => resolve()) : n.link_destroy.async(d.link, () => resolve()),
    );
  const starts = { close: functionPointer('close'), destroy: functionPointer('bpf_link__destroy') };
  const threads: unknown[] = [];
  const pooled: Promise<void>[] = [];
  for (const d of items) {
    const start = 'fd' in d ? starts.close : starts.destroy;
    const arg = 'fd' in d ? BigInt(d.fd) : koffiAddress(d.link);
    const id: unknown[] = [null];
    if (start && bound!.pthread_create(id, null, start, arg) === 0) threads.push(id[0]);
    else pooled.push(onPool(d));
  }
  // Joining waits on libuv's pool; the detaches themselves already run side by side.
  await Promise.all([
    ...pooled,
    ...threads.map((t) => new Promise<void>((resolve) => bound!.pthread_join.async(t, null, () => resolve()))),
  ]);
}
