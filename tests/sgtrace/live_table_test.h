/* SPDX-License-Identifier: GPL-2.0 */
/* live_table_test.h: the operations of live_table_test.bpf.c's "drive" program. */
#ifndef LIVE_TABLE_TEST_H
#define LIVE_TABLE_TEST_H

/* drive's arguments: op, device, scatterlist, nents, direction */
#define LTT_MAP 0
#define LTT_UNMAP 1
#define LTT_FREE 2

#endif
