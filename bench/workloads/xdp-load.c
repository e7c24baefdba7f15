/* bench/workloads/xdp-load.c — loads a BPF object with libbpf and attaches
 * its first program to IFACE as an XDP link; prints "attached", then holds
 * the link until stdin closes (the link goes with the process).
 *   xdp-load OBJECT IFACE */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "xdp-load: cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__next_program(obj, NULL);
	struct bpf_link *link = bpf_program__attach_xdp(prog, if_nametoindex(argv[2]));
	if (!link) {
		fprintf(stderr, "xdp-load: cannot attach to %s\n", argv[2]);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
