/* bench/workloads/write-rate.c — a steady stream of small writes for the
 * export benchmark. Usage: write-rate WRITES_PER_SEC SECONDS [BYTES]
 * Writes BYTES (64) to /dev/null WRITES_PER_SEC times a second, in bursts
 * every millisecond (absolute deadlines, no drift), for SECONDS, then prints
 * how many writes it made and the rate it reached on stderr. A capture on
 * sys_enter_write with /pid == cpid/ sees exactly these writes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long rate = argc > 1 ? atol(argv[1]) : 100000;
	double seconds = argc > 2 ? atof(argv[2]) : 10;
	int size = argc > 3 ? atoi(argv[3]) : 64;
	char buf[4096];
	if (size < 1 || size > (int)sizeof(buf))
		size = 64;
	for (int i = 0; i < size; i++)
		buf[i] = 'a' + i % 26;
	int fd = open("/dev/null", O_WRONLY);
	long ticks = (long)(seconds * 1000);
	long writes = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	double start = now();
	for (long t = 0; t < ticks; t++) {
		long due = rate * (t + 1) / 1000;
		while (writes < due) {
			if (write(fd, buf, size) != size)
				return 1;
			writes++;
		}
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	double took = now() - start;
	fprintf(stderr, "write-rate: %ld writes in %.2f s (%.0f/s)\n", writes, took, writes / took);
	return 0;
}
