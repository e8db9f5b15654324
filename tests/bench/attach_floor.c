// SPDX-License-Identifier: GPL-2.0
/*
 * attach-floor: runs a command with empty BPF programs attached where `sgtrace record` attaches
 * its own (attach_floor.bpf.c). A benchmark tool (tests/bench/bench-guest, mode "floor"), not
 * part of sgtrace.
 *
 *   attach-floor -- COMMAND [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "attach_floor.skel.h"

static int run_command(char **argv);

int main(int argc, char **argv)
{
	struct attach_floor *skel = NULL;
	int err, status = 1;

	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: attach-floor -- COMMAND [ARG...]\n");
		return 2;
	}
	skel = attach_floor__open_and_load();
	if (!skel) {
		fprintf(stderr, "attach-floor: loading the BPF object failed: %s (needs root and a "
				"kernel with fentry/fexit)\n", strerror(errno));
		goto cleanup;
	}
	err = attach_floor__attach(skel);
	if (err) {
		fprintf(stderr, "attach-floor: attaching failed: %s\n", strerror(-err));
		goto cleanup;
	}
	status = run_command(argv + 2);
cleanup:
	attach_floor__destroy(skel);
	return status;
}

/* Runs argv to its end; its exit status, or 1 if it could not be run. */
static int run_command(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("attach-floor: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "attach-floor: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("attach-floor: waitpid");
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
