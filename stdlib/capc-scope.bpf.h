/* stdlib/capc-scope.bpf.h — capture scope and TLS discovery in the kernel:
 * the -c/-p process tree (a map of tgids that fork and exit keep current, so
 * captures follow the command's descendants: seed 001's technique), the exec
 * watcher that tells capc about executables it has not looked at yet (so it
 * can attach to TLS built into new programs), and the counter of calls into
 * TLS stacks the program does not probe (so capc can say what it missed).
 * Included by programs that capture through uprobe signatures.
 */
#ifndef CAPC_SCOPE_BPF_H
#define CAPC_SCOPE_BPF_H

/* sched_process_fork runs in the parent: a child of a process in the tree joins it.
 * A thread (same tgid) adds nothing new. A full map is counted (R11). */
static __always_inline void capc_scope_fork(void *scope, struct task_struct *child, void *stats, __u32 full_index)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(scope, &parent))
		return;
	__u32 tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	if (tgid != parent && bpf_map_update_elem(scope, &tgid, &one, BPF_ANY))
		capc_count(stats, full_index);
}

/* sched_process_exit: when the last thread of a process exits it leaves the
 * tree (pids are reused: a stale entry would let a stranger in). */
static __always_inline void capc_scope_exit(void *scope, struct task_struct *p)
{
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return;
	__u32 tgid = BPF_CORE_READ(p, tgid);
	bpf_map_delete_elem(scope, &tgid);
}

/* An executable by its file: what capc has already looked at (capc_known). */
struct capc_exe_key {
	__u64 dev; /* the superblock's s_dev (kernel encoding: major << 20 | minor) */
	__u64 ino;
};

/* Sent on the exec ring for an executable capc has not looked at yet. */
struct capc_exec_ev {
	__u32 pid;
	__u32 held; /* stopped (SIGSTOP) until capc has attached to it: capc sends SIGCONT */
	__u64 dev;
	__u64 ino;
	char comm[16];
};
_Static_assert(sizeof(struct capc_exec_ev) == 40, "capc_exec_ev (runtime/tls/discovery.ts)");

/* sched_process_exec: tell capc about a new executable (once: it marks it known).
 * With `hold` (capc started the tree with -c), the process is stopped before its
 * first instruction, so no TLS call can happen before capc has attached to what
 * it carries; capc continues it (SIGCONT) once attached. Nothing is stopped
 * unless the event reached capc. */
static __always_inline void capc_exec_seen(void *known, void *ring, struct linux_binprm *bprm, void *stats, __u32 drop_index, int hold)
{
	struct capc_exe_key k = {};
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (bpf_map_lookup_elem(known, &k))
		return;
	struct capc_exec_ev *ev = bpf_ringbuf_reserve(ring, sizeof(*ev), 0);
	if (!ev) {
		capc_count(stats, drop_index); /* R11 */
		return;
	}
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->held = hold && bpf_send_signal(19 /* SIGSTOP */) == 0;
	ev->dev = k.dev;
	ev->ino = k.ino;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP); /* rare: capc should attach before the program gets far */
}

/* Calls into a TLS stack the program does not probe, per process and attach
 * point (the cookie capc gave the attachment). */
struct capc_watch_key {
	__u32 tgid;
	__u32 cookie;
};
struct capc_watch_val {
	__u64 calls;
	char comm[16];
};
_Static_assert(sizeof(struct capc_watch_val) == 24, "capc_watch_val (runtime/tls/discovery.ts)");

static __always_inline void capc_tls_watch(void *map, void *ctx, void *stats, __u32 full_index)
{
	struct capc_watch_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .cookie = (__u32)bpf_get_attach_cookie(ctx) };
	struct capc_watch_val *v = bpf_map_lookup_elem(map, &k);
	if (v) {
		__sync_fetch_and_add(&v->calls, 1);
		return;
	}
	struct capc_watch_val nv = { .calls = 1 };
	bpf_get_current_comm(nv.comm, sizeof(nv.comm));
	if (bpf_map_update_elem(map, &k, &nv, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(map, &k); /* R7: another CPU made it first */
	if (v)
		__sync_fetch_and_add(&v->calls, 1);
	else
		capc_count(stats, full_index); /* R11 */
}

#endif /* CAPC_SCOPE_BPF_H */
