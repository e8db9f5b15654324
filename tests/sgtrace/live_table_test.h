/* SPDX-License-Identifier: GPL-2.0 */
/* live_table_test.h: the operations of live_table_test.bpf.c's "drive" program. */
#ifndef LIVE_TABLE_TEST_H
#define LIVE_TABLE_TEST_H

/* drive's arguments: op, device, scatterlist, nents (a return: the return value), direction,
 * stack pointer (kprobe operations) */
#define LTT_MAP 0
#define LTT_UNMAP 1
#define LTT_FREE 2
#define LTT_KP_ENTRY 3	/* the kprobe of dma_map_sg_attrs(dev, sgl, nents, dir) at sp */
#define LTT_KP_RETURN 4 /* its kretprobe, returning nents, with the stack pointer sp */

#endif
