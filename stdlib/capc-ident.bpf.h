/* stdlib/capc-ident.bpf.h — connection identity, learned in the kernel: which
 * socket a captured connection is (local and peer address and port, or the
 * paths of a unix socket), its fd, and the process's cgroup.
 *
 * Syscall capture (key = fd): capc follows the current task's files ->
 * fdtable -> file -> socket -> sock (CO-RE reads, so one object fits every
 * kernel) the first time it sees the connection.
 *
 * OpenSSL (key = SSL*): while a thread is inside SSL_read/SSL_write, the
 * socket syscalls it makes (read/write through the socket BIO, send/recv
 * through custom BIOs such as curl's and libpq's) name the SSL's socket, so
 * the entry probe marks the thread in capc_in_ssl and a small program on
 * those syscalls learns the socket from their fd; SSL_set_fd names it
 * directly. What is learned is kept per (SSL*, process) until SSL_free, so
 * reads served from OpenSSL's own buffer (no syscall) still have it, and a
 * connection opened before capc started gets it on its first I/O. An SSL over
 * a memory BIO makes no socket syscall: its identity stays unknown, never
 * guessed (the thread's other fds are never used).
 *
 * Everything here is static inline; programs that do not use identity
 * include nothing of it.
 */
#ifndef CAPC_IDENT_BPF_H
#define CAPC_IDENT_BPF_H

#include <bpf/bpf_endian.h>

/* A connection: the script's key (SSL*, fd...) within one process. */
struct capc_conn_key {
	__u64 key;
	__u32 tgid;
	__u32 _pad;
};

#define CAPC_IDENT_SOCKET 1     /* an open socket: family, ports, addresses or paths below */
#define CAPC_IDENT_NOT_SOCKET 2 /* the fd is open but is not a socket (a file, a pipe, a terminal) */
#define CAPC_IDENT_NO_FD 3      /* the process had no such fd when capc looked */

/* flags: the local port was bound by the program (SOCK_BINDPORT_LOCK in sk_userlocks): a connection a
 * listening socket accepted inherits it, one connect() gave a port does not (a client that bound its port
 * first has it too). Which end opened the connection, for those who need it (pcapng's SYN). */
#define CAPC_IDENT_F_PORT_BOUND 1
#define CAPC_SOCK_BINDPORT_LOCK 4

#define CAPC_LEARN_FD 1      /* syscall capture: the key is the fd */
#define CAPC_LEARN_SYSCALL 2 /* a socket syscall the thread made inside an SSL call */
#define CAPC_LEARN_SET_FD 3  /* SSL_set_fd(ssl, fd) */

#define CAPC_AF_UNIX 1
#define CAPC_AF_INET 2
#define CAPC_AF_INET6 10
#define CAPC_S_IFMT 0170000
#define CAPC_S_IFSOCK 0140000
#define CAPC_UNIX_PATH 108 /* sizeof(sun_path) */

/* What predicates and builtins read (copied to the stack: R7). */
struct capc_ident_core {
	__u64 cgroup;    /* cgroup v2 id of the process when capc found the socket */
	__u64 ino;       /* inode of the socket or file: socket:[ino] in /proc/PID/fd */
	__s32 fd;        /* the fd in the process; -1 when not known */
	__u32 tid;       /* the thread capc learned it from */
	__u8 state;      /* CAPC_IDENT_*; 0: not known yet */
	__u8 how;        /* CAPC_LEARN_* */
	__u8 connected;  /* the socket has a peer */
	__u8 flags;      /* CAPC_IDENT_F_* */
	__u16 family;    /* CAPC_AF_*; 0 when not a socket */
	__u16 type;      /* SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5; not a socket: the file type (S_IFMT >> 12) */
	__u16 lport;     /* host byte order; 0 for unix sockets */
	__u16 rport;
	__u16 lpath_len; /* unix: bytes of the path (0: unnamed; an abstract name starts with a NUL) */
	__u16 rpath_len;
	__u8 laddr[16];  /* IPv4 in the first 4 bytes; an IPv4-mapped IPv6 socket is given as IPv4 */
	__u8 raddr[16];
};

/* The value of an identity table, and the payload of a CAPC_REC_IDENT record
 * (layout in compiler/manifest.ts IDENT_RECORD). */
struct capc_ident {
	struct capc_ident_core c;
	char lpath[CAPC_UNIX_PATH];
	char rpath[CAPC_UNIX_PATH];
};
_Static_assert(sizeof(struct capc_ident_core) == 72, "capc_ident_core size");
_Static_assert(sizeof(struct capc_ident) == 288, "capc_ident size (compiler/manifest.ts IDENT_RECORD)");
_Static_assert(__builtin_offsetof(struct capc_ident, c.fd) == 16, "capc_ident.fd");
_Static_assert(__builtin_offsetof(struct capc_ident, c.state) == 24, "capc_ident.state");
_Static_assert(__builtin_offsetof(struct capc_ident, c.family) == 28, "capc_ident.family");
_Static_assert(__builtin_offsetof(struct capc_ident, c.lport) == 32, "capc_ident.lport");
_Static_assert(__builtin_offsetof(struct capc_ident, c.lpath_len) == 36, "capc_ident.lpath_len");
_Static_assert(__builtin_offsetof(struct capc_ident, c.laddr) == 40, "capc_ident.laddr");
_Static_assert(__builtin_offsetof(struct capc_ident, c.raddr) == 56, "capc_ident.raddr");
_Static_assert(__builtin_offsetof(struct capc_ident, lpath) == 72, "capc_ident.lpath");
_Static_assert(__builtin_offsetof(struct capc_ident, rpath) == 180, "capc_ident.rpath");

/*
 * The socket syscalls OpenSSL and the BIOs of its callers make inside
 * SSL_read/SSL_write (stdlib/signatures.ts IDENTITY_SYSCALLS), by number: the
 * raw sys_enter tracepoint sees every syscall of the machine and lets the
 * others go at this compare. (The per-syscall tracepoints cost every read and
 * write of the machine ~0.3 us in their own glue, before any program runs.)
 */
#if defined(__TARGET_ARCH_x86)
#define CAPC_NR_READ 0
#define CAPC_NR_WRITE 1
#define CAPC_NR_SENDTO 44
#define CAPC_NR_RECVFROM 45
#define CAPC_NR_SENDMSG 46
#define CAPC_NR_RECVMSG 47
#elif defined(__TARGET_ARCH_arm64)
#define CAPC_NR_READ 63
#define CAPC_NR_WRITE 64
#define CAPC_NR_SENDTO 206
#define CAPC_NR_RECVFROM 207
#define CAPC_NR_SENDMSG 211
#define CAPC_NR_RECVMSG 212
#else
#error "capc-ident.bpf.h: syscall numbers for this architecture"
#endif

static __always_inline int capc_ident_syscall(__u64 nr)
{
	return nr == CAPC_NR_READ || nr == CAPC_NR_WRITE || nr == CAPC_NR_SENDTO || nr == CAPC_NR_RECVFROM ||
	       nr == CAPC_NR_SENDMSG || nr == CAPC_NR_RECVMSG;
}

/* Known for good: a connected socket, or an fd that is not a socket. A socket
 * seen before it was connected (SSL_set_fd before connect()) is looked at again. */
static __always_inline int capc_ident_final(const struct capc_ident_core *c)
{
	return c->state == CAPC_IDENT_NOT_SOCKET || (c->state == CAPC_IDENT_SOCKET && c->connected);
}

/* The struct file behind `fd` in the current process, or 0:
 * current task -> files -> fdt -> fd[fd]. */
static __always_inline struct file *capc_fd_file(__s64 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_struct *files = BPF_CORE_READ(task, files);
	if (!files || fd < 0)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || (__u64)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* The socket behind a file, or 0 when the file is not a socket. */
static __always_inline struct socket *capc_file_socket(struct file *f)
{
	if (!f)
		return 0;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & CAPC_S_IFMT) != CAPC_S_IFSOCK)
		return 0;
	return (struct socket *)BPF_CORE_READ(f, private_data);
}

/* The path a unix socket is bound to (its own, or its peer's). */
static __always_inline __u16 capc_unix_path(char *dst, struct sock *sk)
{
	if (!sk)
		return 0;
	struct unix_address *a = BPF_CORE_READ((struct unix_sock *)sk, addr);
	if (!a)
		return 0;
	int n = BPF_CORE_READ(a, len) - 2; /* minus sun_family */
	if (n <= 0)
		return 0;
	if (n > CAPC_UNIX_PATH)
		n = CAPC_UNIX_PATH;
	bpf_core_read(dst, CAPC_UNIX_PATH, &a->name[0].sun_path);
	return n;
}

/* Fill `id` (a map value) from the file `f` behind `fd`: addresses and ports
 * of an inet socket, paths of a unix socket, or what the fd is instead. The
 * state is written last, so a reader on another CPU sees all or nothing. */
static __always_inline void capc_ident_fill(struct capc_ident *id, struct file *f, __s64 fd, __u8 how)
{
	struct capc_ident_core *c = &id->c;
	c->fd = fd;
	c->how = how;
	c->tid = (__u32)bpf_get_current_pid_tgid();
	c->cgroup = bpf_get_current_cgroup_id();
	c->connected = 0;
	c->flags = 0;
	c->family = 0;
	c->lport = c->rport = 0;
	c->lpath_len = c->rpath_len = 0;
	if (!f) {
		c->ino = 0;
		barrier();
		c->state = CAPC_IDENT_NO_FD;
		return;
	}
	c->ino = BPF_CORE_READ(f, f_inode, i_ino);
	struct socket *sock = capc_file_socket(f);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : 0;
	if (!sk) {
		c->type = (BPF_CORE_READ(f, f_inode, i_mode) & CAPC_S_IFMT) >> 12; /* what it is instead: pipe, file, device */
		barrier();
		c->state = CAPC_IDENT_NOT_SOCKET;
		return;
	}
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->type = BPF_CORE_READ(sock, type);
	__builtin_memset(c->laddr, 0, sizeof(c->laddr));
	__builtin_memset(c->raddr, 0, sizeof(c->raddr));
	if (family == CAPC_AF_INET || family == CAPC_AF_INET6) {
		/* a bitfield in older kernels, a byte in newer ones: the probed read fits both */
		if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks) & CAPC_SOCK_BINDPORT_LOCK)
			c->flags = CAPC_IDENT_F_PORT_BOUND;
		c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		c->connected = c->rport != 0;
		/* explicit sizes: BPF_CORE_READ_INTO would take sizeof(*laddr), one byte */
		if (family == CAPC_AF_INET6) {
			bpf_core_read(c->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
			bpf_core_read(c->raddr, 16, &sk->__sk_common.skc_v6_daddr);
			__u32 *r = (__u32 *)c->raddr;
			/* IPv4 through an IPv6 socket (::ffff:a.b.c.d): shown and matched as IPv4 */
			if (r[0] == 0 && r[1] == 0 && r[2] == bpf_htonl(0xffff)) {
				family = CAPC_AF_INET;
				__builtin_memset(c->laddr, 0, sizeof(c->laddr));
				__builtin_memset(c->raddr, 0, sizeof(c->raddr));
			}
		}
		if (family == CAPC_AF_INET) {
			bpf_core_read(c->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
			bpf_core_read(c->raddr, 4, &sk->__sk_common.skc_daddr);
		}
	} else if (family == CAPC_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		c->connected = peer != 0;
		c->lpath_len = capc_unix_path(id->lpath, sk);
		c->rpath_len = capc_unix_path(id->rpath, peer);
	}
	c->family = family;
	barrier();
	c->state = CAPC_IDENT_SOCKET;
}

/* The identity table entry of `k`, created (zeroed) if missing (R7: looked up again). */
static __always_inline struct capc_ident *capc_ident_slot(void *map, struct capc_conn_key *k, const struct capc_ident *zero)
{
	struct capc_ident *id = bpf_map_lookup_elem(map, k);
	if (id)
		return id;
	bpf_map_update_elem(map, k, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, k);
}

/* Syscall capture: the identity of fd `k.key` in the current process, looked up again whenever the fd
 * no longer leads to the file it was learned from (compared by inode). An fd can be closed without
 * close(2), which the close watcher sees: at exec (close-on-exec: a forked child that wrote to the fd
 * before exec), by dup2() over it, or at exit (and the pid used again). */
static __always_inline struct capc_ident *capc_ident_of_fd(void *map, struct capc_conn_key *k, const struct capc_ident *zero)
{
	struct file *f = capc_fd_file((__s64)k->key);
	__u64 ino = f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
	struct capc_ident *id = bpf_map_lookup_elem(map, k);
	if (id && id->c.state && id->c.ino == ino && (id->c.state == CAPC_IDENT_NO_FD) == !f)
		return id;
	id = capc_ident_slot(map, k, zero);
	if (id)
		capc_ident_fill(id, f, (__s64)k->key, CAPC_LEARN_FD);
	return id;
}

/* OpenSSL: should the thread entering an SSL call on `k` be watched for its socket syscall? */
static __always_inline int capc_ident_wanted(void *map, struct capc_conn_key *k)
{
	struct capc_ident *id = bpf_map_lookup_elem(map, k);
	return !id || !capc_ident_final(&id->c);
}

/* OpenSSL: the SSL `k.key` uses `fd`. From a syscall inside an SSL call (`how`
 * = CAPC_LEARN_SYSCALL) only a socket counts (the library may touch files
 * too); SSL_set_fd says it outright, and replaces what was known (an SSL
 * reused with SSL_clear). Returns 1 when the identity is final. */
static __always_inline int capc_ident_learn(void *map, struct capc_conn_key *k, __s64 fd, __u8 how, const struct capc_ident *zero)
{
	struct capc_ident *id;
	if (how != CAPC_LEARN_SET_FD) {
		id = bpf_map_lookup_elem(map, k);
		if (id && capc_ident_final(&id->c))
			return 1;
	}
	struct file *f = capc_fd_file(fd);
	if (how != CAPC_LEARN_SET_FD && !capc_file_socket(f))
		return 0; /* not the SSL's socket: keep watching */
	if (!f)
		return 0; /* SSL_set_fd with a closed fd: nothing to learn */
	id = capc_ident_slot(map, k, zero);
	if (!id)
		return 0;
	capc_ident_fill(id, f, fd, how);
	return capc_ident_final(&id->c);
}

/* Copy what predicates and builtins read (R7: the map value is not kept).
 * Returns 1 when the identity is known: for OpenSSL (`final_only`) once final,
 * for syscalls once looked up. Unknown: zeroes, fd -1. */
static __always_inline __u64 capc_ident_load(struct capc_ident *id, struct capc_ident_core *out, int final_only)
{
	if (id && (final_only ? capc_ident_final(&id->c) : id->c.state != 0)) {
		*out = id->c;
		return 1;
	}
	out->fd = -1;
	return 0;
}

/* laddr/raddr as a value capc prints (struct capc_inet: the family, the address). */
static __always_inline void capc_inet_ident(struct capc_inet *d, const struct capc_ident_core *c, int peer)
{
	d->af = c->state != CAPC_IDENT_SOCKET ? 0 : c->family == CAPC_AF_UNIX ? 1 : c->family;
	__builtin_memcpy(d->addr, peer ? c->raddr : c->laddr, 16);
}

/* `raddr == "10.0.0.0/8"`: the address is in the network (bytes compared as
 * two little-endian 64-bit words under a mask; a plain address has a full mask). */
static __always_inline int capc_addr_match(const struct capc_ident_core *c, int peer, __u16 family, __u64 w0, __u64 w1, __u64 m0, __u64 m1)
{
	__u64 a0, a1;
	__builtin_memcpy(&a0, peer ? c->raddr : c->laddr, 8);
	__builtin_memcpy(&a1, (peer ? c->raddr : c->laddr) + 8, 8);
	return c->state == CAPC_IDENT_SOCKET && c->family == family && (a0 & m0) == w0 && (a1 & m1) == w1;
}

#endif /* CAPC_IDENT_BPF_H */
