/* bench/workloads/udp-flood.c — sends UDP datagrams of SIZE bytes to ADDR:9 as
 * fast as one thread can (sendmmsg, 64 at a time) for SECONDS; prints how many.
 *   udp-flood ADDR SIZE SECONDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int size = atoi(argv[2]);
	double secs = atof(argv[3]);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, argv[1], &to.sin_addr);
	if (connect(s, (struct sockaddr *)&to, sizeof(to)) < 0)
		return 1;
	static char buf[1500];
	memset(buf, 'x', sizeof(buf));
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	for (int i = 0; i < 64; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = size;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0;
	for (;;) {
		int n = sendmmsg(s, msgs, 64, 0);
		if (n > 0)
			sent += n;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	printf("%ld\n", sent);
	return 0;
}
