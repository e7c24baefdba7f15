// stdlib/signatures.ts — capture signatures: for functions and syscalls that
// move payload, where the bytes are, when they are valid, which way they go,
// what identifies the connection, and which calls end it. The compiler uses
// these to turn `uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf`
// into an entry/return pair keyed by thread (or goroutine) that captures
// exactly the bytes the call returned — never the requested length, nothing
// for a failed call. Families (FAMILIES) say what the signatures of one TLS
// stack have in common: how arguments are passed, what pairs an entry with
// its return, how a return is seen, and how discovery recognises the stack in
// a binary. Everything here is data: a new stack is a new family and its rows.

export type FamilyName = 'openssl' | 'gnutls' | 'nss' | 'go' | 'syscalls';

/** What the signatures of one stack share. */
export interface FamilyDescription {
  name: FamilyName;
  /** For people: what it is and what it covers. */
  title: string;
  /**
   * How arguments and results are passed: the C calling convention (x86-64
   * SysV: rdi, rsi, rdx, rcx, r8, r9; result in rax), Go's register ABI
   * (ABIInternal, Go 1.17+ on amd64: rax, rbx, rcx, rdi, rsi, r8-r11; the
   * goroutine in r14), or tracepoint fields.
   */
  abi: 'sysv' | 'go' | 'tracepoint';
  /** What pairs a call's entry with its return: the thread, or the goroutine (a Go call may move between threads). */
  callKey: 'thread' | 'goroutine';
  /**
   * How a return is seen: a uretprobe; uprobes on the function's RET
   * instructions (Go: a uretprobe rewrites the return address on a stack the
   * Go runtime may move); or the sys_exit tracepoint.
   */
  returns: 'uretprobe' | 'ret-insns' | 'exit-tracepoint';
  /** The connection key, in words. */
  key: string;
  /**
   * How the socket behind a connection can be learned (connection identity):
   * from the socket syscalls the thread makes while inside the call (TLS
   * stacks), or from the fd itself (syscalls).
   */
  identity: 'nested-syscalls' | 'fd';
  /** Symbols that, all present in a binary, mark an implementation of this family (discovery). */
  marks: string[];
  /** Symbols that, when present, tell which implementation it is (shown to the user). */
  flavors?: { symbol: string; name: string }[];
  /** The least version the family supports, where that matters (Go's register ABI). */
  minVersion?: string;
}

export const FAMILIES: Record<FamilyName, FamilyDescription> = {
  openssl: {
    name: 'openssl',
    title: 'OpenSSL (also BoringSSL and LibreSSL, which keep its API; shared or linked into a program, e.g. node)',
    abi: 'sysv',
    callKey: 'thread',
    returns: 'uretprobe',
    key: 'SSL*',
    identity: 'nested-syscalls',
    marks: ['SSL_write', 'SSL_read'],
    flavors: [
      { symbol: 'BORINGSSL_self_test', name: 'BoringSSL' },
      { symbol: 'SSL_CTX_set_strict_cipher_list', name: 'BoringSSL' },
      { symbol: 'OPENSSL_version_major', name: 'OpenSSL 3' },
      { symbol: 'OpenSSL_version', name: 'OpenSSL 1.1' },
    ],
  },
  gnutls: {
    name: 'gnutls',
    title: 'GnuTLS (wget, gnutls-cli, ...)',
    abi: 'sysv',
    callKey: 'thread',
    returns: 'uretprobe',
    key: 'gnutls_session_t',
    identity: 'nested-syscalls',
    marks: ['gnutls_record_send', 'gnutls_record_recv'],
  },
  nss: {
    name: 'nss',
    title: "NSS (Mozilla's TLS; data moves through NSPR's PR_Write/PR_Read on the SSL layer's file descriptors)",
    abi: 'sysv',
    callKey: 'thread',
    returns: 'uretprobe',
    key: 'PRFileDesc* of the SSL layer',
    identity: 'nested-syscalls',
    marks: ['PR_Write', 'PR_Read'],
  },
  go: {
    name: 'go',
    title: "Go's crypto/tls (register ABI, Go 1.17 and later, amd64)",
    abi: 'go',
    callKey: 'goroutine',
    returns: 'ret-insns',
    key: '*tls.Conn',
    identity: 'nested-syscalls',
    marks: ['crypto/tls.(*Conn).Write', 'crypto/tls.(*Conn).Read'],
    minVersion: '1.17',
  },
  syscalls: {
    name: 'syscalls',
    title: 'socket and file syscalls (write, read, sendto, recvfrom)',
    abi: 'tracepoint',
    callKey: 'thread',
    returns: 'exit-tracepoint',
    key: '(process, fd)',
    identity: 'fd',
    marks: [],
  },
};

/** TLS families, in the order discovery lists them. */
export const TLS_FAMILIES: FamilyName[] = ['openssl', 'gnutls', 'nss', 'go'];

/** How the captured length is found once the call has returned. */
export type LengthRule =
  /** the return value, when it is > 0 (SSL_read, SSL_write, read, write, ...); `bits`: its width */
  | { from: 'retval'; bits: 32 | 64 }
  /** `*arg[outArg]` (a size_t written by the call), when the return value is 1 (SSL_*_ex) */
  | { from: 'out-arg'; outArg: number; bits: 32 | 64 };

/**
 * A test on the connection argument at entry: calls that fail it are not
 * captured. `*(u32 *)(*(u64 *)(conn + ptrAt) + valueAt) == equals`.
 */
export interface ConnGuard {
  ptrAt: number;
  valueAt: number;
  equals: number;
  doc: string;
}

export type SignatureMatch = { kind: 'uprobe'; func: string } | { kind: 'tracepoint'; category: string; name: string };

export interface CaptureSignature {
  /** Family: signatures of one family share connections (keys mean the same thing). */
  family: FamilyName;
  /** The probe the user writes: a function name (uprobe) or `category:name` (tracepoint). */
  match: SignatureMatch;
  /** For tracepoints: the tracepoint that fires at return (sys_exit_*). */
  exitTracepoint?: string;
  /** Names of the arguments, in order (registers of the family's ABI, or tracepoint fields). */
  args: string[];
  /** The argument that identifies the connection (SSL*, fd). */
  connArg: string;
  /** The argument that points at the payload. */
  bufArg: string;
  /** The argument holding the requested length (what entry-time capture uses). */
  sizeArg: string;
  length: LengthRule;
  direction: 'egress' | 'ingress';
  /**
   * Functions of the same family and direction that a capture on this one
   * also attaches to (in the same binary), so one probe covers the whole API:
   * `uprobe:libssl:SSL_write accumulate(...)` also captures SSL_write_ex.
   */
  covers?: string[];
  /**
   * Functions that may call this one with the same connection and buffer, or
   * be called by it (LibreSSL's SSL_write_ex calls SSL_write; GnuTLS's
   * gnutls_record_send jumps into gnutls_record_send2): when both are probed,
   * the inner call is not captured a second time.
   */
  nests?: string[];
  guard?: ConnGuard;
  doc: string;
}

export interface CloseSignature {
  family: FamilyName;
  match: SignatureMatch;
  /** The argument (or field) that identifies the connection being closed. */
  connArg: string;
  argIndex: number;
  doc: string;
}

const openssl = (
  func: string,
  direction: 'egress' | 'ingress',
  ex: boolean,
  sibling: string,
  doc: string,
): CaptureSignature => ({
  family: 'openssl',
  match: { kind: 'uprobe', func },
  args: ex ? ['ssl', 'buf', 'num', direction === 'egress' ? 'written' : 'readbytes'] : ['ssl', 'buf', 'num'],
  connArg: 'ssl',
  bufArg: 'buf',
  sizeArg: 'num',
  length: ex ? { from: 'out-arg', outArg: 3, bits: 32 } : { from: 'retval', bits: 32 },
  direction,
  covers: [sibling],
  nests: [sibling],
  doc,
});

/** NSS: only the SSL layer's descriptors carry plaintext (its methods' file_type is PR_DESC_LAYERED). */
const NSS_SSL_LAYER: ConnGuard = {
  ptrAt: 0,
  valueAt: 0,
  equals: 4,
  doc: "the descriptor's top layer is a layered one (PRIOMethods.file_type == PR_DESC_LAYERED: NSS's SSL layer), not a plain file or socket",
};

const nss = (func: string, direction: 'egress' | 'ingress', sibling: string, doc: string): CaptureSignature => ({
  family: 'nss',
  match: { kind: 'uprobe', func },
  args:
    func === 'PR_Send' || func === 'PR_Recv' ? ['fd', 'buf', 'amount', 'flags', 'timeout'] : ['fd', 'buf', 'amount'],
  connArg: 'fd',
  bufArg: 'buf',
  sizeArg: 'amount',
  length: { from: 'retval', bits: 32 },
  direction,
  covers: [sibling],
  guard: NSS_SSL_LAYER,
  doc,
});

const go = (func: string, direction: 'egress' | 'ingress', doc: string): CaptureSignature => ({
  family: 'go',
  match: { kind: 'uprobe', func },
  // Go's register ABI: the receiver, then the slice as (pointer, length, capacity).
  args: ['c', 'b', 'len', 'cap'],
  connArg: 'c',
  bufArg: 'b',
  sizeArg: 'len',
  length: { from: 'retval', bits: 64 },
  direction,
  doc,
});

export const CAPTURE_SIGNATURES: CaptureSignature[] = [
  openssl(
    'SSL_write',
    'egress',
    false,
    'SSL_write_ex',
    'int SSL_write(SSL *ssl, const void *buf, int num): buf[0 .. ret) when ret > 0',
  ),
  openssl(
    'SSL_read',
    'ingress',
    false,
    'SSL_read_ex',
    'int SSL_read(SSL *ssl, void *buf, int num): buf[0 .. ret) when ret > 0',
  ),
  openssl(
    'SSL_write_ex',
    'egress',
    true,
    'SSL_write',
    'int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written): buf[0 .. *written) when ret == 1',
  ),
  openssl(
    'SSL_read_ex',
    'ingress',
    true,
    'SSL_read',
    'int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes): buf[0 .. *readbytes) when ret == 1',
  ),
  {
    family: 'gnutls',
    match: { kind: 'uprobe', func: 'gnutls_record_send' },
    args: ['session', 'data', 'data_size'],
    connArg: 'session',
    bufArg: 'data',
    sizeArg: 'data_size',
    length: { from: 'retval', bits: 64 },
    direction: 'egress',
    covers: ['gnutls_record_send2'],
    nests: ['gnutls_record_send2'],
    doc: 'ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size): data[0 .. ret) when ret > 0',
  },
  {
    family: 'gnutls',
    match: { kind: 'uprobe', func: 'gnutls_record_send2' },
    args: ['session', 'data', 'data_size', 'pad', 'flags'],
    connArg: 'session',
    bufArg: 'data',
    sizeArg: 'data_size',
    length: { from: 'retval', bits: 64 },
    direction: 'egress',
    covers: ['gnutls_record_send'],
    nests: ['gnutls_record_send'],
    doc: 'ssize_t gnutls_record_send2(gnutls_session_t session, const void *data, size_t data_size, size_t pad, unsigned flags): data[0 .. ret) when ret > 0',
  },
  {
    family: 'gnutls',
    match: { kind: 'uprobe', func: 'gnutls_record_recv' },
    args: ['session', 'data', 'data_size'],
    connArg: 'session',
    bufArg: 'data',
    sizeArg: 'data_size',
    length: { from: 'retval', bits: 64 },
    direction: 'ingress',
    covers: ['gnutls_record_recv_seq'],
    doc: 'ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size): data[0 .. ret) when ret > 0',
  },
  {
    family: 'gnutls',
    match: { kind: 'uprobe', func: 'gnutls_record_recv_seq' },
    args: ['session', 'data', 'data_size', 'seq'],
    connArg: 'session',
    bufArg: 'data',
    sizeArg: 'data_size',
    length: { from: 'retval', bits: 64 },
    direction: 'ingress',
    covers: ['gnutls_record_recv'],
    doc: 'ssize_t gnutls_record_recv_seq(gnutls_session_t session, void *data, size_t data_size, unsigned char *seq): data[0 .. ret) when ret > 0',
  },
  nss(
    'PR_Write',
    'egress',
    'PR_Send',
    'PRInt32 PR_Write(PRFileDesc *fd, const void *buf, PRInt32 amount): buf[0 .. ret) when ret > 0, on SSL descriptors',
  ),
  nss(
    'PR_Send',
    'egress',
    'PR_Write',
    'PRInt32 PR_Send(PRFileDesc *fd, const void *buf, PRInt32 amount, PRIntn flags, PRIntervalTime timeout): buf[0 .. ret) when ret > 0, on SSL descriptors',
  ),
  nss(
    'PR_Read',
    'ingress',
    'PR_Recv',
    'PRInt32 PR_Read(PRFileDesc *fd, void *buf, PRInt32 amount): buf[0 .. ret) when ret > 0, on SSL descriptors',
  ),
  nss(
    'PR_Recv',
    'ingress',
    'PR_Read',
    'PRInt32 PR_Recv(PRFileDesc *fd, void *buf, PRInt32 amount, PRIntn flags, PRIntervalTime timeout): buf[0 .. ret) when ret > 0, on SSL descriptors',
  ),
  go('crypto/tls.(*Conn).Write', 'egress', 'func (c *tls.Conn) Write(b []byte) (int, error): b[0 .. n) when n > 0'),
  go('crypto/tls.(*Conn).Read', 'ingress', 'func (c *tls.Conn) Read(b []byte) (int, error): b[0 .. n) when n > 0'),
  ...(['write', 'read', 'sendto', 'recvfrom'] as const).map((sc): CaptureSignature => {
    const bufField = sc === 'sendto' ? 'buff' : sc === 'recvfrom' ? 'ubuf' : 'buf';
    const sizeField = sc === 'sendto' ? 'len' : sc === 'recvfrom' ? 'size' : 'count';
    return {
      family: 'syscalls',
      match: { kind: 'tracepoint', category: 'syscalls', name: `sys_enter_${sc}` },
      exitTracepoint: `sys_exit_${sc}`,
      args: ['fd', bufField, sizeField],
      connArg: 'fd',
      bufArg: bufField,
      sizeArg: sizeField,
      length: { from: 'retval', bits: 64 },
      direction: sc === 'write' || sc === 'sendto' ? 'egress' : 'ingress',
      doc: `${sc}(fd, ${bufField}, ${sizeField}): ${bufField}[0 .. ret) when ret > 0; the connection is (process, fd)`,
    };
  }),
];

const closeAt0 = (family: FamilyName, func: string, connArg: string, doc: string): CloseSignature => ({
  family,
  match: { kind: 'uprobe', func },
  connArg,
  argIndex: 0,
  doc,
});

export const CLOSE_SIGNATURES: CloseSignature[] = [
  closeAt0('openssl', 'SSL_shutdown', 'ssl', 'int SSL_shutdown(SSL *ssl)'),
  closeAt0('openssl', 'SSL_free', 'ssl', 'void SSL_free(SSL *ssl)'),
  closeAt0('gnutls', 'gnutls_bye', 'session', 'int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how)'),
  closeAt0('gnutls', 'gnutls_deinit', 'session', 'void gnutls_deinit(gnutls_session_t session)'),
  closeAt0('nss', 'PR_Close', 'fd', 'PRStatus PR_Close(PRFileDesc *fd)'),
  closeAt0('go', 'crypto/tls.(*Conn).Close', 'c', 'func (c *tls.Conn) Close() error'),
  {
    family: 'syscalls',
    match: { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_close' },
    connArg: 'fd',
    argIndex: 0,
    doc: 'close(fd)',
  },
];

export function findSignature(match: SignatureMatch): CaptureSignature | undefined {
  return CAPTURE_SIGNATURES.find((s) =>
    s.match.kind === 'uprobe' && match.kind === 'uprobe'
      ? s.match.func === match.func
      : s.match.kind === 'tracepoint' &&
        match.kind === 'tracepoint' &&
        s.match.category === match.category &&
        s.match.name === match.name,
  );
}

/** The function names of a family's capture signatures (uprobe families). */
export function captureFunctions(family: FamilyName): string[] {
  return CAPTURE_SIGNATURES.filter((s) => s.family === family && s.match.kind === 'uprobe').map(
    (s) => (s.match as { func: string }).func,
  );
}

/** The function names that end a family's connections (uprobe families). */
export function closeFunctions(family: FamilyName): string[] {
  return CLOSE_SIGNATURES.filter((s) => s.family === family && s.match.kind === 'uprobe').map(
    (s) => (s.match as { func: string }).func,
  );
}

/** Registers of the family's ABI, as C expressions on `struct pt_regs *ctx`: argument i, the result, the goroutine. */
export const ABI_REGISTERS = {
  sysv: {
    args: [
      'PT_REGS_PARM1(ctx)',
      'PT_REGS_PARM2(ctx)',
      'PT_REGS_PARM3(ctx)',
      'PT_REGS_PARM4(ctx)',
      'PT_REGS_PARM5(ctx)',
      'PT_REGS_PARM6(ctx)',
    ],
  },
  // Go ABIInternal on amd64 (Go 1.17+): integer arguments in rax, rbx, rcx, rdi, rsi, r8-r11; g in r14.
  go: { args: ['ctx->ax', 'ctx->bx', 'ctx->cx', 'ctx->di', 'ctx->si', 'ctx->r8'], goroutine: 'ctx->r14' },
} as const;
/**
 * How an OpenSSL connection (key = SSL*) learns its socket in the kernel
 * (stdlib/capc-ident.bpf.h): `SSL_set_fd(ssl, fd)` names it when capc sees the
 * call; otherwise the socket syscalls a thread makes while inside
 * SSL_read/SSL_write(_ex) name it. Which syscalls the libraries really make
 * inside those calls was checked with bpftrace on OpenSSL 3.0 (Debian 12):
 * the socket BIO (openssl s_client, Python's ssl, nginx, MariaDB) reads and
 * writes with read/write; curl's and libpq's own BIOs use send/recv, which
 * are the sendto/recvfrom syscalls; sendmsg/recvmsg carry kTLS control
 * messages. readv/writev were not seen, so they are not watched.
 */
export const SSL_SET_FD = {
  func: 'SSL_set_fd',
  sslArg: 0,
  fdArg: 1,
  doc: 'int SSL_set_fd(SSL *ssl, int fd): the SSL reads and writes fd',
};
export const IDENTITY_SYSCALLS = ['read', 'write', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg'] as const;

/** Functions capc probes in a family's binaries to learn a connection's socket (connection identity). */
export function identityFunctions(family: FamilyName): string[] {
  return family === 'openssl' ? [SSL_SET_FD.func] : [];
}
