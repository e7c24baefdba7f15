// runtime/ffi/drain.ts — the koffi binding of capc's native drain library
// (runtime/native/capc-drain.h: the capture drain and the printf formatter
// of the events ring; capc-printf-thread.h: that formatter on a thread of its
// own, reading the ring and writing the output fd; built by `npm run build` into
// dist/libcapc-drain.so next to the bundle). Root-safe loading: the library
// is looked for only next to the bundle (running from source: the checkout's
// dist/), and mapped only if it and every directory above it pass the trust
// check the cache uses (runtime/files/trust.ts). Anything else is an
// Unavailable the caller reports (W0911) before using the JavaScript drain.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from './koffi.js';
import { checkPath, explainDistrust } from '../files/trust.js';

export const LIBRARY = 'libcapc-drain.so';
const ABI = 2;

/** Why the native drain cannot be used. */
export interface Unavailable {
  reason: string;
}

/** Where the library may be: the bundle's directory (dist/, or dist/chunks/ above it), or a checkout's dist/. */
export function libraryCandidates(from = path.dirname(fileURLToPath(import.meta.url))): string[] {
  const out: string[] = [];
  let dir = from;
  for (let i = 0; i < 3; i++, dir = path.dirname(dir)) {
    out.push(path.join(dir, LIBRARY));
    if (fs.existsSync(path.join(dir, 'package.json'))) out.push(path.join(dir, 'dist', LIBRARY));
  }
  return out;
}

let bound: ReturnType<typeof bind> | Unavailable | undefined;

/** The bound library, or why it is not available (decided once per process). */
export function nativeDrain(): ReturnType<typeof bind> | Unavailable {
  bound ??= loadNativeDrain();
  return bound;
}

/** The library found among `candidates` (the first that exists), bound if trusted. */
export function loadNativeDrain(candidates = libraryCandidates()): ReturnType<typeof bind> | Unavailable {
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return { reason: `${LIBRARY} is not next to the bundle (run npm run build)` };
  const r = checkPath(file, 'file');
  if (r.ok !== true)
    return { reason: r.ok === false ? `${file} is not trusted: ${explainDistrust(r.distrust)}` : `${file} is missing` };
  try {
    const b = bind(r.real);
    const abi = b.abi() as number;
    if (abi !== ABI) return { reason: `${file} has ABI ${abi}, this capc needs ${ABI} (rebuild: npm run build)` };
    return b;
  } catch (e) {
    return { reason: `cannot load ${file}: ${(e as Error).message.split('\n')[0]}` };
  }
}

let declared = false;
/** koffi's type names are global: declared once, however many copies of the library are bound. */
function declareTypes(): void {
  if (declared) return;
  declared = true;
  koffi.opaque('capc_drain');
  koffi.opaque('capc_printf');
  koffi.opaque('capc_printf_thread');
  koffi.struct('capc_printf_thread_stats', {
    records: 'uint64',
    ring_bytes: 'uint64',
    bytes_written: 'uint64',
    writes: 'uint64',
    wakeups: 'uint64',
    full_waits: 'uint64',
    cpu_ns: 'uint64',
    write_err: 'int32',
    handed_back: 'int32',
    exited: 'int32',
  });
  const Layout = koffi.struct('capc_drain_layout', {
    size: 'uint32',
    len: 'uint32',
    kind: 'uint32',
    conn: 'uint32',
    offset: 'uint32',
    dir: 'uint32',
    ts_last: 'uint32',
    data_kind: 'uint32',
  });
  koffi.struct('capc_drain_config', {
    ring_fd: 'int32',
    ring_size: 'uint32',
    payload: 'int32',
    tail: 'uint32',
    files: 'int32',
    drain_ms: 'int32',
    stats_fd: 'int32',
    drop_bytes_index: 'uint32',
    ncpus: 'int32',
    flush_fd: 'int32',
    flush_ms: 'int32',
    idle_ns: 'uint64',
    rec: Layout,
  });
  koffi.struct('capc_drain_stats', {
    records: 'uint64',
    ring_bytes: 'uint64',
    stalls: 'uint64',
    peak_burst: 'uint64',
    cpu_ns: 'uint64',
    bytes_written: 'uint64',
    synced: 'uint64',
    flushes: 'uint64',
    flush_errors: 'uint64',
    failed: 'int32',
    running: 'int32',
  });
}

function bind(file: string) {
  const lib = koffi.load(file);
  declareTypes();
  return {
    abi: lib.func('int capc_drain_abi()'),
    open: lib.func('capc_drain *capc_drain_open(const capc_drain_config *cfg, _Out_ uint8_t *err, size_t errlen)'),
    notifyFd: lib.func('int capc_drain_notify_fd(const capc_drain *d)'),
    adopt: lib.func('void capc_drain_adopt(capc_drain *d, uint64 conn, uint32 dir, int32 fd, uint64 base)'),
    skip: lib.func('void capc_drain_skip(capc_drain *d, uint64 conn, uint32 dir)'),
    release: lib.func('void capc_drain_release(capc_drain *d, uint64 conn, uint32 dir)'),
    peek: lib.func('uint32 capc_drain_peek(capc_drain *d)'),
    pop: lib.func('uint32 capc_drain_pop(capc_drain *d, _Out_ uint8_t *buf, uint32 cap)'),
    sync: lib.func('uint64 capc_drain_sync(capc_drain *d)'),
    waitSynced: lib.func('int capc_drain_wait_synced(capc_drain *d, uint64 id)'),
    stats: lib.func('void capc_drain_get_stats(capc_drain *d, _Out_ capc_drain_stats *out)'),
    error: lib.func('const char *capc_drain_error(const capc_drain *d)'),
    stop: lib.func('void capc_drain_stop(capc_drain *d, int abort)'),
    free: lib.func('void capc_drain_free(capc_drain *d)'),
    /** batch.ts buildBatch's rules in C, on arrays as a test builds them (conn and at as doubles). */
    buildBatchTest: lib.func(
      'uint32 capc_batch_build_test(const uint8_t *ring, uint32 n, const int32 *off, const int32 *len, const int32 *plen, const double *conn, const double *at, const uint8_t *dir, const uint8_t *data, const int32 *held, int merge, const capc_drain_layout *L, _Out_ uint8_t *out, uint32 cap)',
    ),
    // capc-printf.c: printf records formatted natively (segments and results packed by runtime/format/native-printf.ts)
    printfNew: lib.func('capc_printf *capc_printf_new()'),
    printfFree: lib.func('void capc_printf_free(capc_printf *p)'),
    printfAdd: lib.func(
      'int capc_printf_add(capc_printf *p, uint32 id, uint32 size, uint32 nsegs, const uint8_t *segs, const uint8_t *lits, uint32 nlits)',
    ),
    printfDrain: lib.func(
      'uint32 capc_printf_drain(const capc_printf *p, void *cons_page, const void *prod_page, uint32 page, uint32 size, double until, uint32 max, _Out_ uint8_t *out, uint32 cap, _Out_ uint8_t *res)',
    ),
    // capc-printf-thread.c: the events ring drained, formatted and written on a pthread of its own
    printfThreadStart: lib.func(
      'capc_printf_thread *capc_printf_thread_start(const capc_printf *p, int ring_fd, void *cons_page, const void *prod_page, uint32 page, uint32 size, const void *ctl_cons_page, const void *ctl_prod_page, uint32 ctl_size, int out_fd, int drain_ms, int nice)',
    ),
    printfThreadPause: lib.func('int capc_printf_thread_pause(capc_printf_thread *t, double until)'),
    printfThreadRelease: lib.func('void capc_printf_thread_release(capc_printf_thread *t)'),
    printfThreadResume: lib.func('void capc_printf_thread_resume(capc_printf_thread *t)'),
    printfThreadWrite: lib.func('int capc_printf_thread_write(capc_printf_thread *t, const uint8_t *b, uint32 n)'),
    printfThreadStop: lib.func('void capc_printf_thread_stop(capc_printf_thread *t)'),
    printfThreadLeftover: lib.func(
      'uint32 capc_printf_thread_leftover(capc_printf_thread *t, _Out_ uint8_t *out, uint32 cap)',
    ),
    printfThreadStats: lib.func(
      'void capc_printf_thread_get_stats(capc_printf_thread *t, _Out_ capc_printf_thread_stats *out)',
    ),
    printfThreadFree: lib.func('void capc_printf_thread_free(capc_printf_thread *t)'),
    heldTest: lib.func(
      'void capc_batch_held_test(uint32 n, const int32 *len, const int32 *plen, const double *conn, const uint8_t *dir, const uint8_t *data, int payload, uint32 tail, uint32 header, _Out_ int32 *held)',
    ),
  };
}

export type NativeDrainLib = ReturnType<typeof bind>;
export const isUnavailable = (x: NativeDrainLib | Unavailable): x is Unavailable => 'reason' in x;
