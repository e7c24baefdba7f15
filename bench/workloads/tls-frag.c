/* bench/workloads/tls-frag.c — the seed-000 workload: a TLS client sends
 * messages as many tiny SSL_write calls, as fast as it can, to a server that
 * reads and discards. Client and server are two threads of one process over
 * loopback.
 *
 *   tls-frag CERT KEY WRITES FRAG_BYTES [WRITES_PER_MESSAGE [WRITES_PER_SEC]]
 *
 * WRITES_PER_SEC (0: as fast as possible) paces the writes: the client
 * sleeps whenever it is ahead of the schedule, checked every 64 writes.
 * Prints: "writes W bytes B seconds S writes_per_sec R". With FRAG_HOLD_AT_END
 * set in the environment it then waits for a line on stdin before exiting.
 * Build: cc -O2 -pthread tls-frag.c -lssl -lcrypto
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listen_fd;
static SSL_CTX *sctx;

static void *serve(void *arg)
{
	(void)arg;
	int fd = accept(listen_fd, 0, 0);
	SSL *ssl = SSL_new(sctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	char buf[16384];
	while (SSL_read(ssl, buf, sizeof buf) > 0) {
	}
	SSL_free(ssl);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: tls-frag CERT KEY WRITES FRAG_BYTES [WRITES_PER_MESSAGE [WRITES_PER_SEC]]\n");
		return 2;
	}
	long writes = atol(argv[3]);
	int frag = atoi(argv[4]);
	int per_msg = argc > 5 ? atoi(argv[5]) : 50;
	double rate = argc > 6 ? atof(argv[6]) : 0;
	sctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate_file(sctx, argv[1], SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(sctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) || listen(listen_fd, 1) || getsockname(listen_fd, (struct sockaddr *)&sa, &sl)) {
		perror("listen");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, 0, serve, 0);
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		perror("connect");
		return 1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	SSL *ssl = SSL_new(cctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	char *msg = malloc((size_t)frag);
	for (int i = 0; i < frag; i++)
		msg[i] = (char)('a' + i % 26);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long w = 0; w < writes; w++) {
		if (rate > 0 && (w & 63) == 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double ahead = w / rate - ((now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
			if (ahead > 0) {
				struct timespec d = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };
				nanosleep(&d, 0);
			}
		}
		msg[0] = (char)('0' + (w % per_msg) % 10); /* fragment number within its message */
		if (SSL_write(ssl, msg, frag) != frag) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	pthread_join(th, 0);
	printf("writes %ld bytes %ld seconds %.3f writes_per_sec %.0f\n", writes, writes * frag, secs, writes / secs);
	fflush(stdout);
	if (getenv("FRAG_HOLD_AT_END")) /* bench/tlsstacks.ts reads capc's BPF statistics before it exits */
		getchar();
	return 0;
}
