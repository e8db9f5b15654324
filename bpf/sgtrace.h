/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sgtrace.h: the structures that the BPF side (sgtrace.bpf.c) and user space (user/sgtrace*.c)
 * share through maps and the ring buffer. No includes: the BPF side gets __u32/__u64 from
 * vmlinux.h, user space from <linux/types.h> before including this file. Only fixed-size fields,
 * laid out so that there is no implicit padding.
 */
#ifndef SGTRACE_H
#define SGTRACE_H

#define SGT_NAME_LEN 32
#define SGT_COMM_LEN 16
#define SGT_STACK_DEPTH 40

/* Finding kinds; the JSON names are in user/sgtrace_report.c (sgt_kind_name). */
enum sgt_kind {
	SGT_LEAK = 0,		/* still mapped at the end, older than --min-age */
	SGT_OUTLIVES_UNBIND,	/* still mapped at the end, its device was unbound since the map */
	SGT_FREED_WHILE_MAPPED, /* the scatterlist memory was freed while mapped */
	SGT_UNMAP_UNKNOWN,	/* unmap of a scatterlist that is not mapped */
	SGT_UNMAP_MISMATCH,	/* unmap with another device, direction or nents than the map */
	SGT_UNMAP_AFTER_UNBIND, /* unmapped after its device completed an unbind */
	SGT_MAP_FAILED,		/* the map call failed (informational) */
	SGT_KIND_NR,
};

/* sgt_event.detail for SGT_UNMAP_MISMATCH: a mask of the fields that differ. */
#define SGT_MISMATCH_DEV 0x1
#define SGT_MISMATCH_DIR 0x2
#define SGT_MISMATCH_NENTS 0x4
/* sgt_event.detail for SGT_UNMAP_UNKNOWN. */
#define SGT_UNKNOWN_NOT_MAPPED 0	  /* never seen mapped since tracing started */
#define SGT_UNKNOWN_ALREADY_UNMAPPED 1 /* mapped and unmapped before: a double unmap */

/* Per-CPU counters (map "stats"), indexes. */
enum sgt_stat {
	SGT_STAT_MAPS = 0,	   /* successful maps tracked */
	SGT_STAT_UNMAPS,	   /* unmaps of tracked mappings */
	SGT_STAT_TABLE_FREES,	   /* frees of scatterlist memory that was mapped and unmapped */
	SGT_STAT_UNBINDS,	   /* completed driver unbinds (any device) */
	SGT_STAT_MAP_FAILED,	   /* failed map calls */
	SGT_STAT_LOST_MAP_FULL,	   /* a mapping not tracked: the live map was full */
	SGT_STAT_LOST_RINGBUF,	   /* an event not delivered: ring buffer full */
	SGT_STAT_LOST_STACK,	   /* a stack not captured: stack map full or hash collision */
	SGT_STAT_LOST_DEV_FULL,	   /* a device not tracked: the device map was full */
	SGT_STAT_LOST_STASH,	   /* kprobe mode: a map's entry not paired with its return (the
				    * return was not seen, or the stash map was full) */
	SGT_STAT_REMAPS,	   /* a scatterlist mapped again while mapped (the newer map wins) */
	SGT_STAT_LOST_NESTED,	   /* a free of a mapped scatterlist inside an interrupt that hit one
				    * of our programs: its unmap may have been skipped by the
				    * kernel's recursion guard, so it is dropped, not reported */
	SGT_STAT_UNTRACKED,	   /* unmaps, right after the start, of scatterlists never seen mapped:
				    * taken for mappings made before tracing started (--grace) */
	SGT_STAT_LOST_RACE,	   /* a map, unmap or free of a scatterlist whose slot another CPU
				    * was changing at that moment (the same scatterlist, twice at
				    * once): not recorded */
	SGT_STAT_NR,
};

/* A mapping's record in the live table (struct sgt_live_bucket). 48 bytes. */
struct sgt_live {
	__u64 dev;	/* struct device * of the map */
	__u64 ts;	/* jiffies at the map (see clock_sample in sgtrace.bpf.c) */
	__u64 bytes;	/* sum of the lengths of the nents entries passed */
	__u32 pid;	/* tgid << 0: the thread id that mapped (comm: map "comms") */
	__u32 stack_id; /* stack of the map call, (__u32)-1 if not captured */
	__u32 nents;	/* nents passed to the map (orig_nents for dma_map_sgtable) */
	__u32 mapped;	/* entries the map produced */
	__u32 dir;	/* enum dma_data_direction */
	__u32 gen;	/* the device's completed-unbind generation at the map */
};

/*
 * The live table (map "live", an mmap-able array of buckets; the protocol is in sgtrace.bpf.c,
 * "live table"). A scatterlist has two candidate buckets; in a bucket, slot i is sgl[i] with
 * its record ent[i]. The slot word sgl[i] holds the scatterlist address (8-byte aligned) and
 * these flags in its low bits; 0 is an empty slot. A slot that is neither busy nor unmapped is
 * a live mapping.
 */
#define SGT_LIVE_SLOTS 8
#define SGT_SLOT_BUSY 0x1ULL	 /* being written by a handler */
#define SGT_SLOT_UNMAPPED 0x2ULL /* mapped, then unmapped: kept until the memory is freed or
				  * the slot is needed, to tell a double unmap and count frees */
#define SGT_SLOT_FLAGS 0x7ULL
/* A table of N mappings has the power of two of buckets at or above N / (SLOTS / 2): half full
 * at most, which two choices per scatterlist fill without overflow (1M random addresses: none
 * lost in simulation). */
#define SGT_LIVE_LOAD_DIV (SGT_LIVE_SLOTS / 2)

struct sgt_live_bucket {
	__u64 sgl[SGT_LIVE_SLOTS];
	__u32 used; /* slots not empty, for choosing the emptier bucket (may be off under races) */
	__u32 pad;
	struct sgt_live ent[SGT_LIVE_SLOTS];
};

/*
 * The device table (map "devs", an mmap-able array): a device's entry is in the first of
 * SGT_DEV_PROBES slots from a hash of its address whose key is the address (linear probing,
 * entries are never removed). key 0: an empty slot; key | SGT_DEV_FILLING: being filled.
 */
#define SGT_DEV_SLOTS 4096
#define SGT_DEV_PROBES 8
#define SGT_DEV_FILLING 0x1ULL

struct sgt_dev {
	__u64 key;		   /* struct device * */
	char name[SGT_NAME_LEN];   /* dev_name() */
	char driver[SGT_NAME_LEN]; /* dev->driver->name when first seen bound */
	__u64 maps;
	__u64 unmaps;
	__u64 live;	  /* maps - unmaps - frees while mapped, may be off if tracing started late */
	__u64 live_bytes;
	__u64 map_failed;
	__u64 findings; /* findings reported while tracing (not the end-of-run ones) */
	__u32 gen;	/* completed unbinds of this device since it was first seen */
	__u32 match;	/* 1 when the device passes the --device filter */
};

/* A finding sent to user space while tracing (ring buffer "events"). */
struct sgt_event {
	__u32 kind;
	__u32 detail;	/* SGT_MISMATCH_* mask or SGT_UNKNOWN_* reason */
	__u64 sgl;
	__u64 dev;	/* device of the map (of the unmap for unmap_unknown) */
	__u64 ts_map;	/* jiffies at the map; 0 when there was no map */
	__u64 ts;	/* jiffies when the finding happened */
	__u64 bytes;
	__u32 dir;
	__u32 nents;
	__u32 mapped;
	__u32 pid;	/* of the map, or of the failing/unknown call */
	__u32 stack_id; /* of the map, or of the failing/unknown call */
	__u32 gen;
	__u64 udev;	/* the unmap's (or free's) device / arguments */
	__u32 udir;
	__u32 unents;
	__u32 upid;
	__u32 ustack_id;
	char comm[SGT_COMM_LEN];
	char ucomm[SGT_COMM_LEN];
};

#endif /* SGTRACE_H */
