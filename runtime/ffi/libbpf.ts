// runtime/ffi/libbpf.ts — the typed binding over the system's libbpf.so.1
// (1.1 on Debian 12) and the few libc calls the runtime needs (mmap, epoll,
// perf_event_open, errno strings). This folder is the only place that
// touches koffi: everything above it sees plain TypeScript functions.
// Struct layouts follow /usr/include/bpf/libbpf.h and bpf.h of libbpf 1.1.
import koffi from './koffi.js';
import { CapcError } from '../errors.js';
import { requireTrustedFromEnv } from '../files/trust.js';

export type Ptr = unknown; // an opaque native pointer (koffi external)

let loaded: ReturnType<typeof bind> | undefined;

/** The bound functions; loads libbpf on first use and throws a clear error if it is missing. */
export function native(): ReturnType<typeof bind> {
  loaded ??= bind();
  return loaded;
}

function bind() {
  let lib: ReturnType<typeof koffi.load>;
  const want = process.env.CAPC_LIBBPF || 'libbpf.so.1';
  // As root, a library named by the environment runs as root once loaded: only one root controls (E0604).
  if (process.env.CAPC_LIBBPF) requireTrustedFromEnv('CAPC_LIBBPF', want, 'libbpf');
  try {
    lib = koffi.load(want);
  } catch (e) {
    throw new CapcError('E0602', `cannot load ${want}: ${(e as Error).message.split('\n')[0]}`, [
      process.env.CAPC_LIBBPF ? 'point CAPC_LIBBPF at libbpf.so.1, or unset it' : 'install it: apt-get install libbpf1',
    ]);
  }
  const libc = koffi.load('libc.so.6');

  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  koffi.opaque('bpf_map');
  koffi.opaque('bpf_link');
  koffi.opaque('btf');

  const OpenOpts = koffi.struct('bpf_object_open_opts', {
    sz: 'size_t',
    object_name: 'const char *',
    relaxed_maps: 'bool',
    pin_root_path: 'const char *',
    _removed_attach_prog_fd: 'uint32',
    kconfig: 'const char *',
    btf_custom_path: 'const char *',
    kernel_log_buf: 'void *',
    kernel_log_size: 'size_t',
    kernel_log_level: 'uint32',
  });
  const UprobeOpts = koffi.struct('bpf_uprobe_opts', {
    sz: 'size_t',
    ref_ctr_offset: 'size_t',
    bpf_cookie: 'uint64',
    retprobe: 'bool',
    func_name: 'const char *',
  });
  const KprobeOpts = koffi.struct('bpf_kprobe_opts', {
    sz: 'size_t',
    bpf_cookie: 'uint64',
    offset: 'size_t',
    retprobe: 'bool',
  });
  const TestRunOpts = koffi.struct('bpf_test_run_opts', {
    sz: 'size_t',
    data_in: 'void *',
    data_out: 'void *',
    data_size_in: 'uint32',
    data_size_out: 'uint32',
    ctx_in: 'void *',
    ctx_out: 'void *',
    ctx_size_in: 'uint32',
    ctx_size_out: 'uint32',
    retval: 'uint32',
    repeat: 'int',
    duration: 'uint32',
    flags: 'uint32',
    cpu: 'uint32',
    batch_size: 'uint32',
  });
  // bpf(2) attrs libbpf 1.1 cannot build (uapi linux/bpf.h of 6.6+): BPF_LINK_CREATE of a uprobe_multi link,
  // and BPF_PROG_LOAD of the tiny program the feature probe loads. Pointer fields are 8 bytes (aligned u64).
  const UprobeMultiAttr = koffi.struct('capc_link_create_uprobe_multi', {
    prog_fd: 'uint32',
    target_fd: 'uint32',
    attach_type: 'uint32',
    flags: 'uint32',
    path: 'const char *',
    offsets: 'const void *',
    ref_ctr_offsets: 'const void *',
    cookies: 'const void *',
    cnt: 'uint32',
    uflags: 'uint32',
    pid: 'uint32',
    _pad: 'uint32',
  });
  const ProgLoadAttr = koffi.struct('capc_prog_load_attr', {
    prog_type: 'uint32',
    insn_cnt: 'uint32',
    insns: 'const void *',
    license: 'const char *',
    log_level: 'uint32',
    log_size: 'uint32',
    log_buf: 'void *',
    kern_version: 'uint32',
    prog_flags: 'uint32',
    prog_name: koffi.array('char', 16),
    prog_ifindex: 'uint32',
    expected_attach_type: 'uint32',
  });
  const PrintFn = koffi.proto('int capc_libbpf_print_fn(int level, const char *fmt, void *args)');
  // A custom SEC() handler's load callback (libbpf_prog_prepare_load_fn_t); opts is struct bpf_prog_load_opts *.
  const PrepareLoadFn = koffi.proto('int capc_prepare_load_fn(bpf_program *prog, void *opts, long cookie)');
  const ProgHandlerOpts = koffi.struct('libbpf_prog_handler_opts', {
    sz: 'size_t',
    cookie: 'long',
    prog_setup_fn: 'void *',
    prog_prepare_load_fn: 'capc_prepare_load_fn *',
    prog_attach_fn: 'void *',
  });
  koffi.opaque('perf_buffer');
  const PerfSampleFn = koffi.proto('void capc_perf_sample_fn(void *ctx, int cpu, void *data, uint32 size)');
  const PerfLostFn = koffi.proto('void capc_perf_lost_fn(void *ctx, int cpu, uint64 cnt)');

  return {
    OpenOpts,
    UprobeOpts,
    TestRunOpts,
    PrintFn,
    PrepareLoadFn,
    PerfSampleFn,
    PerfLostFn,
    sizeofOpenOpts: koffi.sizeof(OpenOpts),
    sizeofProgHandlerOpts: koffi.sizeof(ProgHandlerOpts),
    sizeofUprobeOpts: koffi.sizeof(UprobeOpts),
    sizeofKprobeOpts: koffi.sizeof(KprobeOpts),
    sizeofTestRunOpts: koffi.sizeof(TestRunOpts),
    sizeofUprobeMultiAttr: koffi.sizeof(UprobeMultiAttr),
    sizeofProgLoadAttr: koffi.sizeof(ProgLoadAttr),
    // libbpf: objects
    set_print: lib.func('void *libbpf_set_print(capc_libbpf_print_fn *fn)'),
    object_open_mem: lib.func(
      'bpf_object *bpf_object__open_mem(const void *buf, size_t sz, const bpf_object_open_opts *opts)',
    ),
    object_load: lib.func('int bpf_object__load(bpf_object *obj)'),
    object_close: lib.func('void bpf_object__close(bpf_object *obj)'),
    find_program: lib.func('bpf_program *bpf_object__find_program_by_name(const bpf_object *obj, const char *name)'),
    find_map: lib.func('bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)'),
    program_fd: lib.func('int bpf_program__fd(const bpf_program *prog)'),
    program_set_autoload: lib.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    // uprobe_multi links need programs loaded for them (expected_attach_type 48, set before load)
    program_set_expected_attach_type: lib.func(
      'int bpf_program__set_expected_attach_type(bpf_program *prog, int type)',
    ),
    program_expected_attach_type: lib.func('int bpf_program__expected_attach_type(const bpf_program *prog)'),
    program_set_type: lib.func('int bpf_program__set_type(bpf_program *prog, int type)'),
    // custom SEC() handlers (runtime/bpf/tp-btf.ts)
    register_prog_handler: lib.func(
      'int libbpf_register_prog_handler(const char *sec, int prog_type, int exp_attach_type, const libbpf_prog_handler_opts *opts)',
    ),
    // the kernel's BTF (runtime/bpf/tp-btf.ts: a raw tracepoint's BTF id, found once per kernel)
    btf_load_vmlinux: lib.func('btf *btf__load_vmlinux_btf()'),
    btf_find_by_name_kind: lib.func('int btf__find_by_name_kind(const btf *btf, const char *name, uint32 kind)'),
    btf_free: lib.func('void btf__free(btf *btf)'),
    map_fd: lib.func('int bpf_map__fd(const bpf_map *map)'),
    map_set_initial_value: lib.func('int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    map_set_max_entries: lib.func('int bpf_map__set_max_entries(bpf_map *map, uint32 max_entries)'),
    get_error: lib.func('long libbpf_get_error(const void *ptr)'),
    version_string: lib.func('const char *libbpf_version_string()'),
    // libbpf: feature probes (capc --info): 1 supported, 0 not, < 0 could not tell
    probe_prog_type: lib.func('int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)'),
    probe_map_type: lib.func('int libbpf_probe_bpf_map_type(int map_type, const void *opts)'),
    probe_helper: lib.func('int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void *opts)'),
    // per-program verifier log (capc -v: statistics of every program loaded)
    program_set_log_level: lib.func('int bpf_program__set_log_level(bpf_program *prog, uint32 log_level)'),
    program_set_log_buf: lib.func('int bpf_program__set_log_buf(bpf_program *prog, void *log_buf, size_t log_size)'),
    num_possible_cpus: lib.func('int libbpf_num_possible_cpus()'),
    // libbpf: attach
    attach_tracepoint: lib.func(
      'bpf_link *bpf_program__attach_tracepoint(const bpf_program *prog, const char *category, const char *name)',
    ),
    attach_uprobe_opts: lib.func(
      'bpf_link *bpf_program__attach_uprobe_opts(const bpf_program *prog, int pid, const char *binary_path, size_t func_offset, const bpf_uprobe_opts *opts)',
    ),
    attach_perf_event: lib.func('bpf_link *bpf_program__attach_perf_event(const bpf_program *prog, int pfd)'),
    attach_kprobe_opts: lib.func(
      'bpf_link *bpf_program__attach_kprobe_opts(const bpf_program *prog, const char *func_name, const bpf_kprobe_opts *opts)',
    ),
    attach_raw_tracepoint: lib.func(
      'bpf_link *bpf_program__attach_raw_tracepoint(const bpf_program *prog, const char *tp_name)',
    ),
    attach_usdt: lib.func(
      'bpf_link *bpf_program__attach_usdt(const bpf_program *prog, int pid, const char *binary_path, const char *usdt_provider, const char *usdt_name, const void *opts)',
    ),
    attach_trace: lib.func('bpf_link *bpf_program__attach_trace(const bpf_program *prog)'),
    link_destroy: lib.func('int bpf_link__destroy(bpf_link *link)'),
    // Packet probes: a BPF link on an interface (XDP, tcx), an fd the kernel detaches when it is closed.
    link_create: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
    // libbpf: low-level map and program access
    map_lookup_elem: lib.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)'),
    map_get_next_key: lib.func('int bpf_map_get_next_key(int fd, const void *key, _Out_ void *next_key)'),
    map_delete_elem: lib.func('int bpf_map_delete_elem(int fd, const void *key)'),
    map_update_elem: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64 flags)'),
    prog_test_run_opts: lib.func('int bpf_prog_test_run_opts(int prog_fd, _Inout_ bpf_test_run_opts *opts)'),
    enable_stats: lib.func('int bpf_enable_stats(int type)'),
    // struct bpf_prog_info and friends (run_time_ns, run_cnt: see runtime/bpf/bpf-stats.ts)
    obj_get_info_by_fd: lib.func('int bpf_obj_get_info_by_fd(int bpf_fd, void *info, void *info_len)'),
    // libbpf: perf buffers (the perfbuf sink)
    perf_buffer_new: lib.func(
      'perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, capc_perf_sample_fn *sample_cb, capc_perf_lost_fn *lost_cb, void *ctx, const void *opts)',
    ),
    perf_buffer_epoll_fd: lib.func('int perf_buffer__epoll_fd(const perf_buffer *pb)'),
    perf_buffer_consume: lib.func('int perf_buffer__consume(perf_buffer *pb)'),
    perf_buffer_free: lib.func('void perf_buffer__free(perf_buffer *pb)'),
    // libc
    vsnprintf: libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t n, const char *fmt, void *ap)'),
    mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t off)'),
    munmap: libc.func('int munmap(void *addr, size_t len)'),
    close: libc.func('int close(int fd)'),
    memfd_create: libc.func('int memfd_create(const char *name, unsigned int flags)'),
    epoll_create1: libc.func('int epoll_create1(int flags)'),
    epoll_ctl: libc.func('int epoll_ctl(int epfd, int op, int fd, const uint8_t *event)'),
    epoll_wait: libc.func('int epoll_wait(int epfd, _Out_ uint8_t *events, int maxevents, int timeout)'),
    syscall: libc.func('long syscall(long number, ...)'),
    errno_location: libc.func('int *__errno_location()'),
    strerror: libc.func('const char *strerror(int errnum)'),
    getpagesize: libc.func('int getpagesize()'),
    clock_gettime: libc.func('int clock_gettime(int clk, _Out_ uint8_t *ts)'),
    prctl_name: libc.func(
      'int prctl(int option, const char *name, unsigned long a3, unsigned long a4, unsigned long a5)',
    ),
    if_nametoindex: libc.func('unsigned int if_nametoindex(const char *ifname)'),
    pthread_sigmask: libc.func('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)'),
  };
}

export const koffiView = (ptr: Ptr, len: number): ArrayBuffer => koffi.view(ptr as never, len) as ArrayBuffer;
export const koffiRegister = (fn: (...a: never[]) => unknown, proto: ReturnType<typeof koffi.proto>): unknown =>
  koffi.register(fn as never, koffi.pointer(proto));
export const koffiAddress = (ptr: Ptr): bigint => koffi.address(ptr as never) as bigint;
export const koffiDecodeInt = (ptr: Ptr): number => koffi.decode(ptr as never, 'int') as number;
/** Writes a u32 at `offset` bytes into native memory (a field of a struct libbpf hands a callback). */
export const koffiEncodeU32 = (ptr: Ptr, offset: number, value: number): void =>
  koffi.encode(ptr as never, offset, 'uint32', value);

const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** Signals that are raised by the faulting instruction itself: never held. */
const SYNCHRONOUS = [4 /* ILL */, 5 /* TRAP */, 6 /* ABRT */, 7 /* BUS */, 8 /* FPE */, 11 /* SEGV */];

/**
 * Run fn with every asynchronous signal held on this thread. The kernel's
 * verifier gives up with EAGAIN whenever the loading thread has a signal
 * pending, and libbpf retries only 5 times: a profiler's SIGPROF every
 * millisecond (node --cpu-prof) made every large program "rejected". A held
 * signal is delivered when fn returns; one sent to the process (Ctrl-C) goes
 * to another thread meanwhile and is handled as usual.
 */
export function withSignalsHeld<T>(fn: () => T): T {
  const n = native();
  const set = Buffer.alloc(128, 0xff); // sigset_t: 1024 bits
  for (const sig of SYNCHRONOUS) set[(sig - 1) >> 3]! &= ~(1 << ((sig - 1) & 7));
  const old = Buffer.alloc(128);
  if (n.pthread_sigmask(SIG_BLOCK, set, old) !== 0) return fn();
  try {
    return fn();
  } finally {
    n.pthread_sigmask(SIG_SETMASK, old, null);
  }
}

/** errno after a failing libc/libbpf call. */
export function errno(): number {
  return koffiDecodeInt(native().errno_location());
}
export function strerror(err: number): string {
  return native().strerror(Math.abs(err)) as string;
}
