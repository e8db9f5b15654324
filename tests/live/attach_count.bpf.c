// SPDX-License-Identifier: GPL-2.0
/*
 * attach_count.bpf.c: one counter per CPU, bumped by whichever of these programs
 * live-attach-count attaches (docs/live-attach.md). Each program does nothing else, so a call
 * it does not count is a call the hook did not run for. With only_sgkm, calls for other devices
 * (nvme) are left out, so the count compares with sgkm's own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* Set by the loader: count only calls for devices named sgkm.* (other drivers, nvme, call the
 * same function), and where the tracepoint's record keeps the device name. */
const volatile bool only_sgkm = false;
const volatile __u32 tp_device_off = 8;

static __always_inline bool is_sgkm_name(const char *name)
{
	return name[0] == 's' && name[1] == 'g' && name[2] == 'k' && name[3] == 'm' &&
	       name[4] == '.';
}

static __always_inline void hit_dev(struct device *dev)
{
	__u32 k = 0;
	__u64 *v;

	if (only_sgkm) {
		char name[6] = {};
		const char *p = BPF_CORE_READ(dev, kobj.name);

		if (!p || bpf_probe_read_kernel_str(name, sizeof(name), p) < 0 || !is_sgkm_name(name))
			return;
	}
	v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		*v += 1;
}

/* The target function is set by the loader (bpf_program__set_attach_target). */
SEC("fentry/dma_map_sgtable")
int BPF_PROG(count_fentry, struct device *dev)
{
	hit_dev(dev);
	return 0;
}

SEC("kprobe/dma_map_sgtable")
int BPF_KPROBE(count_kprobe, struct device *dev)
{
	hit_dev(dev);
	return 0;
}

/* dma:dma_map_sg (6.12+), or any tracepoint the loader names. */
SEC("tracepoint/dma/dma_map_sg")
int count_tracepoint(void *ctx)
{
	__u32 k = 0;
	__u64 *v;

	if (only_sgkm) {
		__u32 loc = 0;
		char name[6] = {};

		/* __data_loc char[] device: the low 16 bits are its offset in the record. */
		if (bpf_probe_read_kernel(&loc, sizeof(loc), ctx + tp_device_off) ||
		    bpf_probe_read_kernel_str(name, sizeof(name), ctx + (loc & 0xffff)) < 0 ||
		    !is_sgkm_name(name))
			return 0;
	}
	v = bpf_map_lookup_elem(&hits, &k);
	if (v)
		*v += 1;
	return 0;
}

/* A hardware execution breakpoint on the function's first instruction: no guest code is
 * written to attach it (the debug registers are set through an IPI on every CPU). */
SEC("perf_event")
int count_hwbp(struct bpf_perf_event_data *ctx)
{
	hit_dev((struct device *)ctx->regs.di);
	return 0;
}
