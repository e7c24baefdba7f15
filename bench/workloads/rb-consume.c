/* bench/workloads/rb-consume.c — the C baseline for capc's consumer: loads an
 * object capc built (`capc build`), sets cpid, attaches every program, runs a
 * command, and reads the event ring with libbpf (ring_buffer__poll plus
 * ring_buffer__consume every 5 ms, since capc's producers only wake the reader
 * past a threshold). The callback reads each record's id and first argument,
 * the least a consumer must do. Prints "records N drops D seconds S cpu C".
 *
 *   rb-consume OBJ CPID_OFFSET RODATA_SIZE DROP_INDEX -- CMD [ARGS...]
 * Build: cc -O2 rb-consume.c -lbpf
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t records, checksum;

static int on_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= 16)
		checksum += *(uint32_t *)data + *(uint64_t *)((char *)data + 8);
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: rb-consume OBJ CPID_OFFSET RODATA_SIZE DROP_INDEX -- CMD [ARGS...]\n");
		return 2;
	}
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
	struct bpf_object *obj = bpf_object__open_file(argv[1], 0);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	size_t rosz = (size_t)atol(argv[3]);
	char *ro = calloc(1, rosz);
	uint64_t cpid = (uint64_t)child;
	memcpy(ro + atol(argv[2]), &cpid, sizeof cpid);
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata.capc");
	if (rodata && bpf_map__set_initial_value(rodata, ro, rosz)) {
		fprintf(stderr, "cannot set .rodata.capc\n");
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "attach %s failed\n", bpf_program__name(prog));
			return 1;
		}
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "capc_events")), on_record, 0, 0);
	if (!rb)
		return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (write(go[1], "x", 1) != 1)
		return 1;
	int status;
	for (;;) {
		ring_buffer__poll(rb, 5);
		ring_buffer__consume(rb);
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	ring_buffer__consume(rb);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals = calloc((size_t)ncpu, sizeof(uint64_t)), drops = 0;
	uint32_t key = (uint32_t)atoi(argv[4]);
	if (!bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "capc_stats")), &key, vals))
		for (int i = 0; i < ncpu; i++)
			drops += vals[i];
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("records %llu drops %llu seconds %.3f cpu %.3f checksum %llu\n", (unsigned long long)records, (unsigned long long)drops,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, (unsigned long long)checksum);
	return 0;
}
