// SPDX-License-Identifier: GPL-2.0
/*
 * attach_floor.bpf.c: empty programs on the hooks that `sgtrace record` uses in the guest
 * (the fentry flavour, see user/attach.c). The overhead benchmark runs sgstress under them
 * as mode "floor": what attaching at these points costs before sgtrace does any work, so
 * that docs/perf.md can split sgtrace's overhead into the price of the hooks and the price
 * of its own code.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fexit/dma_map_sgtable")
int BPF_PROG(floor_map_sgtable)
{
	return 0;
}

SEC("fexit/dma_map_sg_attrs")
int BPF_PROG(floor_map_sg_attrs)
{
	return 0;
}

SEC("fentry/dma_unmap_sg_attrs")
int BPF_PROG(floor_unmap_sg_attrs)
{
	return 0;
}

SEC("fentry/device_release_driver_internal")
int BPF_PROG(floor_release_entry)
{
	return 0;
}

SEC("fexit/device_release_driver_internal")
int BPF_PROG(floor_release_exit)
{
	return 0;
}

SEC("raw_tp/kfree")
int floor_kfree(void *ctx)
{
	return 0;
}

SEC("tracepoint/kmem/mm_page_free")
int floor_page_free(void *ctx)
{
	return 0;
}
