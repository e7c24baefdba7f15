/* bench/workloads/syscall-storm.c — a producer of probe hits: THREADS threads
 * call getppid(2) as fast as they can for SECONDS seconds (or until STOPFILE
 * disappears). Prints "calls N seconds S calls_per_sec R cpu_ns_per_call C"
 * (C: the process's own user + system CPU time over the calls).
 *
 *   syscall-storm THREADS SECONDS
 * Build: cc -O2 -pthread syscall-storm.c
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_long total;

static void *storm(void *arg)
{
	(void)arg;
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 256; i++)
			syscall(SYS_getppid);
		n += 256;
	}
	atomic_fetch_add(&total, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: syscall-storm THREADS SECONDS\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	double secs = atof(argv[2]);
	pthread_t th[64];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads && i < 64; i++)
		pthread_create(&th[i], 0, storm, 0);
	struct timespec d = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
	nanosleep(&d, 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < threads && i < 64; i++)
		pthread_join(th[i], 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("calls %ld seconds %.3f calls_per_sec %.0f cpu_ns_per_call %.1f\n", atomic_load(&total), el,
	       atomic_load(&total) / el, cpu * 1e9 / atomic_load(&total));
	return 0;
}
