/* bench/workloads/gnutls-frag.c — tls-frag.c over GnuTLS: a client thread
 * sends WRITES records of FRAG_BYTES with gnutls_record_send, as fast as it
 * can, to a server thread that reads and discards, over loopback.
 *
 *   gnutls-frag CERT KEY WRITES FRAG_BYTES
 * Prints: "writes W bytes B seconds S writes_per_sec R". With FRAG_HOLD_AT_END
 * set in the environment it then waits for a line on stdin before exiting.
 * Build: cc -O2 -pthread gnutls-frag.c -lgnutls
 */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listen_fd;
static gnutls_certificate_credentials_t creds;

static void *serve(void *arg)
{
	(void)arg;
	int fd = accept(listen_fd, 0, 0);
	gnutls_session_t s;
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0) {
		fprintf(stderr, "server handshake failed\n");
		exit(1);
	}
	char buf[16384];
	while (gnutls_record_recv(s, buf, sizeof buf) > 0) {
	}
	gnutls_deinit(s);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: gnutls-frag CERT KEY WRITES FRAG_BYTES\n");
		return 2;
	}
	long writes = atol(argv[3]);
	int frag = atoi(argv[4]);
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&creds);
	if (gnutls_certificate_set_x509_key_file(creds, argv[1], argv[2], GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "cannot load the certificate\n");
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
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		perror("connect");
		return 1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	gnutls_certificate_credentials_t ccreds;
	gnutls_certificate_allocate_credentials(&ccreds);
	gnutls_session_t s;
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ccreds);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0) {
		fprintf(stderr, "client handshake failed\n");
		return 1;
	}
	char *msg = malloc((size_t)frag);
	for (int i = 0; i < frag; i++)
		msg[i] = (char)('a' + i % 26);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long w = 0; w < writes; w++) {
		msg[0] = (char)('0' + w % 10);
		if (gnutls_record_send(s, msg, (size_t)frag) != frag) {
			fprintf(stderr, "gnutls_record_send failed\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	pthread_join(th, 0);
	printf("writes %ld bytes %ld seconds %.3f writes_per_sec %.0f\n", writes, writes * frag, secs, writes / secs);
	fflush(stdout);
	if (getenv("FRAG_HOLD_AT_END")) /* bench/tlsstacks.ts reads capc's BPF statistics before it exits */
		getchar();
	return 0;
}
