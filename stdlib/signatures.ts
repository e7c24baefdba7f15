// stdlib/signatures.ts — capture signatures: for functions and syscalls that
// move payload, where the bytes are, when they are valid, which way they go,
// what identifies the connection, and which calls end it. The compiler uses
// these to turn `uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf`
// into an entry/return pair keyed by thread that captures exactly the bytes
// the call returned — never the requested length, nothing for a failed call.

/** How the captured length is found once the call has returned. */
export type LengthRule =
  /** the return value, when it is > 0 (SSL_read, SSL_write, read, write, ...) */
  | { from: 'retval' }
  /** `*arg[outArg]` (a size_t written by the call), when the return value is 1 (SSL_*_ex) */
  | { from: 'out-arg'; outArg: number };

export interface CaptureSignature {
  /** Family: signatures of one family share connections (keys mean the same thing). */
  family: 'openssl' | 'syscalls';
  /** The probe the user writes: a function name (uprobe) or `category:name` (tracepoint). */
  match: { kind: 'uprobe'; func: string } | { kind: 'tracepoint'; category: string; name: string };
  /** For tracepoints: the tracepoint that fires at return (sys_exit_*). */
  exitTracepoint?: string;
  /** Names of the arguments, in order (uprobe registers, or tracepoint fields). */
  args: string[];
  /** The argument that identifies the connection (SSL*, fd). */
  connArg: string;
  /** The argument that points at the payload. */
  bufArg: string;
  /** The argument holding the requested length (what entry-time capture uses). */
  sizeArg: string;
  length: LengthRule;
  direction: 'egress' | 'ingress';
  doc: string;
}

export interface CloseSignature {
  family: CaptureSignature['family'];
  match: { kind: 'uprobe'; func: string } | { kind: 'tracepoint'; category: string; name: string };
  /** The argument (or field) that identifies the connection being closed. */
  connArg: string;
  argIndex: number;
  doc: string;
}

export const CAPTURE_SIGNATURES: CaptureSignature[] = [
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_write' },
    args: ['ssl', 'buf', 'num'],
    connArg: 'ssl',
    bufArg: 'buf',
    sizeArg: 'num',
    length: { from: 'retval' },
    direction: 'egress',
    doc: 'int SSL_write(SSL *ssl, const void *buf, int num): buf[0 .. ret) when ret > 0',
  },
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_read' },
    args: ['ssl', 'buf', 'num'],
    connArg: 'ssl',
    bufArg: 'buf',
    sizeArg: 'num',
    length: { from: 'retval' },
    direction: 'ingress',
    doc: 'int SSL_read(SSL *ssl, void *buf, int num): buf[0 .. ret) when ret > 0',
  },
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_write_ex' },
    args: ['ssl', 'buf', 'num', 'written'],
    connArg: 'ssl',
    bufArg: 'buf',
    sizeArg: 'num',
    length: { from: 'out-arg', outArg: 3 },
    direction: 'egress',
    doc: 'int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written): buf[0 .. *written) when ret == 1',
  },
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_read_ex' },
    args: ['ssl', 'buf', 'num', 'readbytes'],
    connArg: 'ssl',
    bufArg: 'buf',
    sizeArg: 'num',
    length: { from: 'out-arg', outArg: 3 },
    direction: 'ingress',
    doc: 'int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes): buf[0 .. *readbytes) when ret == 1',
  },
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
      length: { from: 'retval' },
      direction: sc === 'write' || sc === 'sendto' ? 'egress' : 'ingress',
      doc: `${sc}(fd, ${bufField}, ${sizeField}): ${bufField}[0 .. ret) when ret > 0; the connection is (process, fd)`,
    };
  }),
];

export const CLOSE_SIGNATURES: CloseSignature[] = [
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_shutdown' },
    connArg: 'ssl',
    argIndex: 0,
    doc: 'int SSL_shutdown(SSL *ssl)',
  },
  {
    family: 'openssl',
    match: { kind: 'uprobe', func: 'SSL_free' },
    connArg: 'ssl',
    argIndex: 0,
    doc: 'void SSL_free(SSL *ssl)',
  },
  {
    family: 'syscalls',
    match: { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_close' },
    connArg: 'fd',
    argIndex: 0,
    doc: 'close(fd)',
  },
];

export function findSignature(
  match: { kind: 'uprobe'; func: string } | { kind: 'tracepoint'; category: string; name: string },
): CaptureSignature | undefined {
  return CAPTURE_SIGNATURES.find((s) =>
    s.match.kind === 'uprobe' && match.kind === 'uprobe'
      ? s.match.func === match.func
      : s.match.kind === 'tracepoint' &&
        match.kind === 'tracepoint' &&
        s.match.category === match.category &&
        s.match.name === match.name,
  );
}

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
