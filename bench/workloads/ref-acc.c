/* bench/workloads/ref-acc.c — the consumer of the hand-written C reference
 * (ref-acc.bpf.c): loads the object, attaches SSL_write (entry, or entry and
 * return when the object was built with -DAT_RETURN) and SSL_shutdown to a
 * command it starts, reads the ring with libbpf (ring_buffer__poll, plus
 * ring_buffer__consume every 5 ms since producers only wake it past a
 * threshold) and writes every connection's stream to its own file in DIR,
 * each record's bytes at their stream offset through a 256 KiB buffer per
 * file, as a careful C program would. Prints
 *   "records R bytes B drops D dropped_bytes DB refused F ends E seconds S cpu C bpf_ns NS bpf_runs RUNS"
 * then the command's exit status is its own.
 *
 *   ref-acc OBJ LIBSSL RING_BYTES DIR -- CMD [ARGS...]
 * Build: cc -O2 ref-acc.c -lbpf
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rec {
	uint64_t conn;
	uint64_t offset;
	uint32_t tgid;
	uint32_t tid;
	uint32_t len;
	uint32_t kind;
};

#define FILES 64
#define FBUF (256 * 1024)

struct file {
	uint64_t conn;
	uint32_t tgid;
	int fd;
	uint64_t at; /* stream offset of buf[0] */
	size_t used;
	char *buf;
};

static struct file files[FILES];
static int nfiles;
static const char *dir;
static uint64_t records, bytes, ends;

static void flush(struct file *f)
{
	size_t done = 0;
	while (done < f->used) {
		ssize_t n = pwrite(f->fd, f->buf + done, f->used - done, (off_t)(f->at + done));
		if (n <= 0) {
			perror("pwrite");
			exit(1);
		}
		done += (size_t)n;
	}
	f->at += f->used;
	f->used = 0;
}

static struct file *file_of(uint64_t conn, uint32_t tgid)
{
	for (int i = 0; i < nfiles; i++)
		if (files[i].conn == conn && files[i].tgid == tgid)
			return &files[i];
	if (nfiles == FILES) {
		fprintf(stderr, "too many connections\n");
		exit(1);
	}
	struct file *f = &files[nfiles];
	char path[4096];
	snprintf(path, sizeof path, "%s/conn%d-%u-egress.bin", dir, nfiles, tgid);
	f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		perror(path);
		exit(1);
	}
	f->conn = conn;
	f->tgid = tgid;
	f->buf = malloc(FBUF);
	nfiles++;
	return f;
}

static int on_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	const struct rec *r = data;
	if (len < sizeof *r || sizeof *r + r->len > len)
		return 0;
	records++;
	struct file *f = file_of(r->conn, r->tgid);
	if (r->kind == 1) {
		/* The stream's total: a lost tail still makes the file that long (a hole), as capc does. */
		uint64_t total = *(const uint64_t *)((const char *)data + sizeof *r);
		flush(f);
		struct stat st;
		if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < total && ftruncate(f->fd, (off_t)total))
			perror("ftruncate");
		ends++;
		return 0;
	}
	const char *p = (const char *)data + sizeof *r;
	if (f->used && f->at + f->used != r->offset)
		flush(f); /* not contiguous (a loss): write what waits, start again at this offset */
	if (!f->used)
		f->at = r->offset;
	if (f->used + r->len > FBUF)
		flush(f), f->at = r->offset;
	if (r->len > FBUF) {
		if (pwrite(f->fd, p, r->len, (off_t)r->offset) != (ssize_t)r->len)
			exit(1);
		f->at = r->offset + r->len;
	} else {
		memcpy(f->buf + f->used, p, r->len);
		f->used += r->len;
	}
	bytes += r->len;
	return 0;
}

static void prog_stats(struct bpf_object *obj, uint64_t *ns, uint64_t *runs)
{
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		uint32_t n = sizeof info;
		memset(&info, 0, sizeof info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &n) == 0) {
			*ns += info.run_time_ns;
			if (strcmp(bpf_program__name(prog), "ssl_write_entry") == 0)
				*runs += info.run_cnt;
		}
	}
}

static struct bpf_link *attach(struct bpf_program *p, pid_t pid, const char *lib, const char *fn, int ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = fn, .retprobe = ret);
	struct bpf_link *l = bpf_program__attach_uprobe_opts(p, pid, lib, 0, &o);
	if (!l) {
		fprintf(stderr, "attach %s to %s failed: %s\n", bpf_program__name(p), fn, strerror(errno));
		exit(1);
	}
	return l;
}

int main(int argc, char **argv)
{
	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: ref-acc OBJ LIBSSL RING_BYTES DIR -- CMD [ARGS...]\n");
		return 2;
	}
	dir = argv[4];
	int go[2];
	if (pipe(go))
		return 1;
	pid_t child = fork();
	if (child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[6], argv + 6);
		_exit(127);
	}
	close(go[0]);
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME); /* per-program run time, while we hold it */
	struct bpf_object *obj = bpf_object__open_file(argv[1], 0);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "rb"), (uint32_t)atol(argv[3]));
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	const char *lib = argv[2];
	attach(bpf_object__find_program_by_name(obj, "ssl_write_entry"), child, lib, "SSL_write", 0);
	struct bpf_program *ret = bpf_object__find_program_by_name(obj, "ssl_write_return");
	if (ret)
		attach(ret, child, lib, "SSL_write", 1);
	attach(bpf_object__find_program_by_name(obj, "ssl_shutdown"), child, lib, "SSL_shutdown", 0);
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_record, 0, 0);
	if (!rb)
		return 1;
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (write(go[1], "x", 1) != 1)
		return 1;
	int status = 0;
	for (;;) {
		ring_buffer__poll(rb, 5);
		ring_buffer__consume(rb);
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	ring_buffer__consume(rb);
	for (int i = 0; i < nfiles; i++) {
		flush(&files[i]);
		close(files[i].fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t ns = 0, runs = 0;
	prog_stats(obj, &ns, &runs);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals = calloc((size_t)ncpu, sizeof(uint64_t)), sum[3] = { 0, 0, 0 };
	for (uint32_t k = 0; k < 3; k++)
		if (!bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "stats")), &k, vals))
			for (int i = 0; i < ncpu; i++)
				sum[k] += vals[i];
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     ((ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) + (ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / 1e6;
	printf("records %llu bytes %llu drops %llu dropped_bytes %llu refused %llu ends %llu seconds %.3f cpu %.3f bpf_ns %llu bpf_runs %llu\n",
	       (unsigned long long)records, (unsigned long long)bytes, (unsigned long long)sum[0], (unsigned long long)sum[1],
	       (unsigned long long)sum[2], (unsigned long long)ends, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, cpu,
	       (unsigned long long)ns, (unsigned long long)runs);
	if (stats_fd >= 0)
		close(stats_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
