// SPDX-License-Identifier: GPL-2.0
/*
 * sgstress - stress sgkm's scatter-gather tables from many threads, unbind its devices under
 * them, inject DMA mapping bugs on purpose, and report the ground truth a tracer must find.
 * See docs/stress.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgstress.h"
#include "sgstress_dev.h"
#include "sgstress_opts.h"
#include "sgstress_report.h"
#include "sgstress_run.h"

int main(int argc, char **argv)
{
	static struct sgs_snapshot before, after;
	static struct sgs_result res;
	static struct sgs_truth truth;
	struct sgs_config cfg;
	unsigned int ndev;
	int fd, ret, status = SGS_EXIT_FAIL;

	sgs_parse_args(argc, argv, &cfg);

	if (sgs_report_json_check(&cfg))
		return SGS_EXIT_FAIL;
	fd = sgs_dev_open();
	if (fd < 0)
		return SGS_EXIT_FAIL;
	ret = sgs_snapshot(fd, &before);
	if (ret) {
		fprintf(stderr, "sgstress: SGKM_IOC_STATS: %s: is sgkm.ko the version of this "
			"sgstress?\n", strerror(-ret));
		goto cleanup;
	}
	if (sgs_run_check(&cfg, &before, &ndev))
		goto cleanup;

	if (sgs_run(&cfg, &before, ndev, &res))
		goto cleanup;

	ret = sgs_snapshot(fd, &after);
	if (ret) {
		fprintf(stderr, "sgstress: SGKM_IOC_STATS after the run: %s: see dmesg\n",
			strerror(-ret));
		goto cleanup;
	}
	sgs_truth_compute(&cfg, &res, &before, &after, ndev, &truth);
	sgs_report_print(&cfg, &res, &truth);
	if (cfg.json_path && sgs_report_json(&cfg, &res, &truth))
		goto cleanup;
	status = truth.ok ? SGS_EXIT_OK : SGS_EXIT_FAIL;
cleanup:
	close(fd);
	return status;
}
