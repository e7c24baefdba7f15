/* bench/workloads/rw-storm.c — a process that is never inside an SSL call
 * but makes the syscalls capc watches to learn TLS connections' sockets:
 * N rounds of read(2) of 1 byte from /dev/zero and write(2) of 1 byte to
 * /dev/null. Prints "calls N seconds S calls_per_sec R".
 *
 *   rw-storm ROUNDS
 * Build: cc -O2 rw-storm.c
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1000000;
	int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
	char c;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < rounds; i++) {
		if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("calls %ld seconds %.3f calls_per_sec %.0f\n", 2 * rounds, s, 2 * rounds / s);
	return 0;
}
