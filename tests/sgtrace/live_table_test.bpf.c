// SPDX-License-Identifier: GPL-2.0
/*
 * live_table_test.bpf.c: sgtrace's BPF side with one more program, "drive", which calls its
 * handlers with made-up arguments, so that live_table_test.c can run the live table through
 * exact sequences on this machine's own kernel (BPF_PROG_TEST_RUN of a raw_tp program) and
 * check every state a slot goes through. The hook programs are not loaded.
 */
#include "../../bpf/sgtrace.bpf.c"
#include "live_table_test.h"

SEC("raw_tp")
int drive(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 op = ctx->args[0], dev = ctx->args[1], sgl = ctx->args[2];
	int nents = (int)ctx->args[3], dir = (int)ctx->args[4];

	switch (op) {
	case LTT_MAP:
		/* mapped = nents; a stack id is given, so no stack is taken */
		on_map(ctx, NULL, dev, sgl, nents, nents, dir, 1, 0, 4096);
		break;
	case LTT_UNMAP:
		on_unmap(ctx, NULL, dev, sgl, nents, dir);
		break;
	case LTT_FREE:
		on_free(ctx, sgl);
		break;
	}
	return 0;
}
