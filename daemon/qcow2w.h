/* qcow2w.h - a streaming qcow2 (v3) writer: the image is written strictly sequentially, once,
 * and every byte goes through SHA-256 as it is written.
 *
 * The caller knows up front which 64 KiB clusters of the virtual disk the image stores (from
 * NBD block status): the map gives one QCOW2W_* state per cluster. From it the writer lays the
 * file out as header, refcount table, refcount blocks, L1 table, L2 tables, then the data
 * clusters in guest order, so that qcow2w_create writes all metadata at once and qcow2w_write
 * only appends. QCOW2W_UNALLOC clusters read through the backing file (or as zero without
 * one), QCOW2W_ZERO clusters read as zero whatever the backing file holds (v3 zero flag),
 * QCOW2W_DATA clusters hold the bytes given to qcow2w_write. Every file cluster has refcount
 * 1 (qemu-img check: no errors, no leaks). Not thread-safe: one writer per thread. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "error.h"

#define QCOW2W_CLUSTER_BITS 16
#define QCOW2W_CLUSTER ((uint64_t)1 << QCOW2W_CLUSTER_BITS)

enum {
	QCOW2W_UNALLOC = 0,
	QCOW2W_ZERO = 1,
	QCOW2W_DATA = 2,
};

typedef struct Qcow2w Qcow2w;

/* A writer for a disk of `size` bytes; map has qcow2w_clusters(size) entries (copied).
 * backing: the backing file name written into the header (format qcow2), or NULL. */
Qcow2w *qcow2w_new(uint64_t size, const char *backing, const uint8_t *map);
void qcow2w_free(Qcow2w *w); /* closes the file if open; never removes it */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Qcow2w, qcow2w_free)

uint64_t qcow2w_clusters(uint64_t size);
/* Bytes of guest data qcow2w_write expects in total (DATA clusters, the last one maybe short). */
uint64_t qcow2w_data_bytes(const Qcow2w *w);
/* The size the finished file will have. */
uint64_t qcow2w_file_size(const Qcow2w *w);

/* Create path (it must not exist) and write the header and all metadata. */
int qcow2w_create(Qcow2w *w, const char *path, HfError *err);
/* Append guest data: offset must be where the next DATA cluster starts, and [offset,
 * offset+len) must cover DATA clusters only, whole clusters except at the end of the disk.
 * Calls may be as large as the caller likes (one write(2) per call). */
int qcow2w_write(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err);
/* qcow2w_write in two stages, for a pipeline: qcow2w_hash feeds the data to SHA-256 (after the
 * metadata qcow2w_create hashed), qcow2w_append writes it. Each stage takes the spans in the
 * same order as qcow2w_write; the two may run on different threads (never one stage on two). */
int qcow2w_hash(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err);
int qcow2w_append(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err);
/* The guest offset where the next DATA cluster starts, or the disk size when none is left. */
uint64_t qcow2w_next(const Qcow2w *w);
/* Every DATA cluster written: fsync, close, and the file's SHA-256 (hex). */
int qcow2w_finish(Qcow2w *w, char sha256[65], HfError *err);
