// SPDX-License-Identifier: GPL-2.0
/*
 * live_table_test.bpf.c: sgtrace's BPF side with one more program, "drive", which calls its
 * handlers with made-up arguments, so that live_table_test.c can run the live table through
 * exact sequences on this machine's own kernel (BPF_PROG_TEST_RUN of a raw_tp program) and
 * check every state a slot goes through; and the pairing of the kprobe flavour's map entries
 * and returns (stash_push, stash_pop), with made-up stack pointers. The hook programs are not
 * loaded by that test (the attach test loads two of them).
 */
#include "../../bpf/sgtrace.bpf.c"
#include "live_table_test.h"

SEC("raw_tp")
int drive(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 op = ctx->args[0], dev = ctx->args[1], sgl = ctx->args[2], sp = ctx->args[5];
	int nents = (int)ctx->args[3], dir = (int)ctx->args[4];
	struct map_call call = {
		.sp = sp, .dev = dev, .arg = sgl, .nents = nents, .dir = dir, .stack_id = 1,
	};

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
	case LTT_KP_ENTRY: /* what kp_dma_map_sg_attrs does, at stack pointer sp */
		stash_push(sp, &call);
		break;
	case LTT_KP_RETURN: /* what krp_dma_map_sg_attrs does, returning nents, at sp */
		if (stash_pop(sp, 0, &call))
			map_returned(ctx, &call, nents);
		break;
	}
	return 0;
}
