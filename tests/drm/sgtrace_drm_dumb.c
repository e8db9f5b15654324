// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace_drm_dumb: a minimal DRM client for the real-driver tests. It creates N dumb buffers
 * on a DRM device (the GEM shmem drivers map each buffer's pages with dma_map_sgtable() when
 * it is created), prints "created N", then holds the device open until its standard input
 * reaches end of file or SIGTERM comes, and closes it (which frees, and so unmaps, the
 * buffers), printing "closed".
 *
 *   sgtrace_drm_dumb [-d /dev/dri/card0] N
 *
 * Exit 0, 1 on a failed open or ioctl (with what failed), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <drm.h>
#include <drm_mode.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: sgtrace_drm_dumb [-d DEVICE] N   (N: 1..256 dumb buffers)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = "/dev/dri/card0";
	char buf[64];
	long n;
	char *end;
	int fd, opt;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd')
			return usage();
		path = optarg;
	}
	if (optind != argc - 1)
		return usage();
	errno = 0;
	n = strtol(argv[optind], &end, 10);
	if (errno || *end || n < 1 || n > 256)
		return usage();

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sgtrace_drm_dumb: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		/* 256x256x32bpp: 64 pages, enough for a table of several segments. */
		struct drm_mode_create_dumb c = { .width = 256, .height = 256, .bpp = 32 };

		if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c)) {
			fprintf(stderr, "sgtrace_drm_dumb: DRM_IOCTL_MODE_CREATE_DUMB #%ld on %s: %s\n",
				i, path, strerror(errno));
			close(fd);
			return 1;
		}
	}
	/* No SA_RESTART: the signal ends the blocking read below. */
	struct sigaction sa = { .sa_handler = on_term };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	printf("created %ld\n", n);
	fflush(stdout);
	while (!stop && read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	close(fd);
	printf("closed\n");
	return 0;
}
