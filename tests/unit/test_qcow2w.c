/* test_qcow2w.c - the streaming qcow2 writer: images for several cluster layouts, each checked
 * by QEMU itself (qemu-img check: no errors, no leaks; qemu-img compare against the expected
 * bytes; qemu-img map for zero clusters and backing reads) and its inline SHA-256 against a
 * re-read of the file. */
#include <glib.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/drstore.h"
#include "daemon/policy.h" /* g_autoptr(cJSON) */
#include "daemon/qcow2w.h"

#define CS QCOW2W_CLUSTER

typedef struct {
	char *dir;
} Fx;

static int setup(void **state)
{
	Fx *f = g_new0(Fx, 1);
	f->dir = g_dir_make_tmp("hfqcow2w.XXXXXX", NULL);
	assert_non_null(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fx *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static char *path_in(Fx *f, const char *name)
{
	return g_build_filename(f->dir, name, NULL);
}

/* Deterministic non-zero bytes of cluster c of a disk filled with `seed`. */
static void cluster_bytes(uint8_t *buf, uint64_t c, unsigned seed)
{
	uint32_t x = 2463534242u ^ seed ^ (uint32_t)(c * 2654435761u);
	for (uint64_t i = 0; i < CS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)(x | 1);
	}
}

/* Write an image from map, DATA clusters holding cluster_bytes(seed), in runs of contiguous
 * DATA clusters cut at `chunk` bytes; returns the inline SHA-256, checked against a re-read. */
static void write_image(const char *path, uint64_t size, const char *backing, const uint8_t *map,
			unsigned seed, uint64_t chunk, char hex[65])
{
	HfError err = {0};
	g_autoptr(Qcow2w) w = qcow2w_new(size, backing, map);
	g_autofree uint8_t *buf = g_malloc(chunk + CS);
	assert_int_equal(qcow2w_create(w, path, &err), 0);
	uint64_t fed = 0;
	while (qcow2w_next(w) < size) {
		uint64_t o = qcow2w_next(w), e = o;
		while (e < size && e - o < chunk && map[e / CS] == QCOW2W_DATA) {
			cluster_bytes(buf + (e - o), e / CS, seed);
			e = MIN(e + CS, size);
		}
		if (qcow2w_write(w, o, buf, e - o, &err) < 0)
			fail_msg("%s", err.message);
		fed += e - o;
	}
	assert_int_equal(fed, qcow2w_data_bytes(w));
	if (qcow2w_finish(w, hex, &err) < 0)
		fail_msg("%s", err.message);
	GStatBuf st;
	assert_int_equal(g_stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, qcow2w_file_size(w));
	char again[65] = "";
	assert_int_equal(drstore_sha256(path, again, &err), 0);
	assert_string_equal(hex, again);
}

/* The expected disk as a sparse raw file: per cluster the seed it holds (0 = zeros). */
static char *expect_raw(const char *dir, uint64_t size, const unsigned *seeds)
{
	char *raw = g_build_filename(dir, "expect.raw", NULL);
	int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	uint8_t buf[CS];
	for (uint64_t c = 0; c < qcow2w_clusters(size); c++) {
		if (!seeds[c])
			continue;
		cluster_bytes(buf, c, seeds[c]);
		size_t n = (size_t)MIN(CS, size - c * CS);
		assert_int_equal(pwrite(fd, buf, n, (off_t)(c * CS)), (ssize_t)n);
	}
	close(fd);
	return raw;
}

static void qemu_img_ok(const char *const *argv)
{
	HfError err = {0};
	if (drstore_qemu_img(&err, argv) < 0)
		fail_msg("%s", err.message);
}

static void check_clean(const char *path)
{
	const char *argv[] = {"check", "-f", "qcow2", path, NULL};
	qemu_img_ok(argv);
}

static cJSON *img_info(const char *img)
{
	g_autofree char *out = NULL;
	const char *argv[] = {"qemu-img", "info", "--output=json", img, NULL};
	assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
				 NULL, NULL, NULL));
	cJSON *j = cJSON_Parse(out);
	assert_non_null(j);
	return j;
}

/* The image has the virtual size and reads as the expected bytes (qemu-img compare). */
static void compare_raw(Fx *f, const char *img, uint64_t size, const unsigned *seeds)
{
	g_autoptr(cJSON) info = img_info(img);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(info, "virtual-size")), size);
	g_autofree char *raw = expect_raw(f->dir, size, seeds);
	const char *argv[] = {"compare", "-f", "qcow2", "-F", "raw", img, raw, NULL};
	qemu_img_ok(argv);
	g_unlink(raw);
}

/* qemu-img map --output=json: the entry covering offset. */
static cJSON *map_at(const char *img, uint64_t offset)
{
	g_autofree char *out = NULL;
	const char *argv[] = {"qemu-img", "map", "--output=json", "-f", "qcow2", img, NULL};
	assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
				 NULL, NULL, NULL));
	g_autoptr(cJSON) arr = cJSON_Parse(out);
	assert_non_null(arr);
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		uint64_t s = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "start"));
		uint64_t l = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "length"));
		if (offset >= s && offset < s + l)
			return cJSON_Duplicate(e, 1);
	}
	fail_msg("qemu-img map of %s has no entry at %" G_GUINT64_FORMAT, img, offset);
	return NULL;
}

static void test_empty(void **state)
{
	Fx *f = *state;
	uint64_t size = 3 * 1024 * 1024;
	g_autofree uint8_t *map = g_malloc0(qcow2w_clusters(size));
	g_autofree unsigned *seeds = g_new0(unsigned, qcow2w_clusters(size));
	g_autofree char *img = path_in(f, "empty.qcow2");
	char hex[65];
	write_image(img, size, NULL, map, 1, 1 << 20, hex);
	check_clean(img);
	compare_raw(f, img, size, seeds);
	g_autoptr(cJSON) e = map_at(img, 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(e, "data")));
	/* header, refcount table, refcount block, L1: four clusters, nothing else */
	GStatBuf st;
	assert_int_equal(g_stat(img, &st), 0);
	assert_int_equal(st.st_size, 4 * CS);
}

static void test_all_data(void **state)
{
	Fx *f = *state;
	uint64_t size = 5 * 1024 * 1024 + 1536; /* the last cluster is short */
	uint64_t n = qcow2w_clusters(size);
	g_autofree uint8_t *map = g_malloc(n);
	g_autofree unsigned *seeds = g_new(unsigned, n);
	memset(map, QCOW2W_DATA, n);
	for (uint64_t c = 0; c < n; c++)
		seeds[c] = 1;
	g_autofree char *img = path_in(f, "all.qcow2");
	char hex[65];
	write_image(img, size, NULL, map, 1, 3 * CS, hex);
	check_clean(img);
	compare_raw(f, img, size, seeds);
	/* one write call for the whole disk gives the same bytes */
	g_autofree char *img2 = path_in(f, "all2.qcow2");
	char hex2[65];
	write_image(img2, size, NULL, map, 1, 2 * size, hex2);
	assert_string_equal(hex, hex2);
	/* the two stages (hash everything, then append everything) give the same file */
	g_autofree char *img3 = path_in(f, "all3.qcow2");
	g_autofree uint8_t *buf = g_malloc(n * CS);
	for (uint64_t c = 0; c < n; c++)
		cluster_bytes(buf + c * CS, c, 1);
	HfError err = {0};
	g_autoptr(Qcow2w) w = qcow2w_new(size, NULL, map);
	char hex3[65];
	assert_int_equal(qcow2w_create(w, img3, &err), 0);
	assert_int_equal(qcow2w_hash(w, 0, buf, CS, &err), 0);
	assert_int_equal(qcow2w_hash(w, CS, buf + CS, size - CS, &err), 0);
	assert_int_equal(qcow2w_finish(w, hex3, &err), -1); /* not written yet */
	error_clear(&err);
	assert_int_equal(qcow2w_append(w, 0, buf, size, &err), 0);
	assert_int_equal(qcow2w_finish(w, hex3, &err), 0);
	assert_string_equal(hex, hex3);
	check_clean(img3);
}

/* Data, zero and unallocated ranges across several L2 tables (each covers 512 MiB), some L2
 * tables absent, on a sparse 1.6 GiB disk. */
static void test_zero_ranges(void **state)
{
	Fx *f = *state;
	uint64_t size = UINT64_C(1600) * 1024 * 1024;
	uint64_t n = qcow2w_clusters(size);
	g_autofree uint8_t *map = g_malloc0(n);
	g_autofree unsigned *seeds = g_new0(unsigned, n);
	struct {
		uint64_t from, count;
		uint8_t kind;
	} runs[] = {
	    {0, 5, QCOW2W_DATA},     {5, 3, QCOW2W_ZERO},     {8, 1, QCOW2W_DATA},
	    {100, 40, QCOW2W_DATA},  {8190, 4, QCOW2W_DATA},  /* across the first L2 table */
	    {8300, 10, QCOW2W_ZERO}, {20000, 2, QCOW2W_ZERO}, /* an L2 table of zeros only */
	    {n - 3, 3, QCOW2W_DATA},
	};
	for (size_t r = 0; r < G_N_ELEMENTS(runs); r++)
		for (uint64_t c = runs[r].from; c < runs[r].from + runs[r].count; c++) {
			map[c] = runs[r].kind;
			seeds[c] = runs[r].kind == QCOW2W_DATA ? 2 : 0;
		}
	g_autofree char *img = path_in(f, "zeros.qcow2");
	char hex[65];
	write_image(img, size, NULL, map, 2, 8 * CS, hex);
	check_clean(img);
	compare_raw(f, img, size, seeds);
	g_autoptr(cJSON) z = map_at(img, 6 * CS);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(z, "zero")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(z, "data")));
	g_autoptr(cJSON) d = map_at(img, 8191 * CS);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "data")));
}

/* An incremental on top of a full: data replaces, zero clusters hide the backing file's data,
 * unallocated clusters read through it. The backing name is relative, as in the DR store. */
static void test_incremental_backing(void **state)
{
	Fx *f = *state;
	uint64_t size = 4 * 1024 * 1024;
	uint64_t n = qcow2w_clusters(size);
	g_autofree uint8_t *all = g_malloc(n);
	memset(all, QCOW2W_DATA, n);
	g_autofree char *pdir = path_in(f, "P1");
	g_autofree char *cdir = path_in(f, "P2");
	assert_int_equal(g_mkdir(pdir, 0755), 0);
	assert_int_equal(g_mkdir(cdir, 0755), 0);
	g_autofree char *bimg = g_build_filename(pdir, "vda.qcow2", NULL);
	g_autofree char *timg = g_build_filename(cdir, "vda.qcow2", NULL);
	char hex[65];
	write_image(bimg, size, NULL, all, 3, 1 << 20, hex);

	g_autofree uint8_t *map = g_malloc0(n);
	g_autofree unsigned *seeds = g_new(unsigned, n);
	for (uint64_t c = 10; c < 20; c++)
		map[c] = QCOW2W_DATA;
	for (uint64_t c = 30; c < 33; c++)
		map[c] = QCOW2W_ZERO;
	map[n - 1] = QCOW2W_DATA;
	for (uint64_t c = 0; c < n; c++)
		seeds[c] = map[c] == QCOW2W_DATA ? 4 : map[c] == QCOW2W_ZERO ? 0 : 3;
	write_image(timg, size, "../P1/vda.qcow2", map, 4, 1 << 20, hex);
	check_clean(timg);
	g_autoptr(cJSON) j = img_info(timg);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "backing-filename")),
			    "../P1/vda.qcow2");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "backing-filename-format")),
			    "qcow2");
	compare_raw(f, timg, size, seeds);
	g_autoptr(cJSON) z = map_at(timg, 31 * CS);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(z, "zero")));
	g_autoptr(cJSON) b = map_at(timg, 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(b, "depth")), 1);
	/* the chain flattened by qemu-img convert (what a restore does) reads the same */
	g_autofree char *flat = path_in(f, "flat.qcow2");
	const char *conv[] = {"convert", "-f", "qcow2", "-O", "qcow2", timg, flat, NULL};
	qemu_img_ok(conv);
	compare_raw(f, flat, size, seeds);
}

/* Enough file clusters for two refcount blocks (each counts 32768 clusters = 2 GiB). */
static void test_two_refcount_blocks(void **state)
{
	Fx *f = *state;
	uint64_t n = 33000, size = n * CS;
	g_autofree uint8_t *map = g_malloc(n);
	memset(map, QCOW2W_DATA, n);
	g_autofree uint8_t *chunk = g_malloc(4 << 20);
	for (uint64_t c = 0; c < 64; c++)
		cluster_bytes(chunk + c * CS, c, 5);
	g_autofree char *img = path_in(f, "big.qcow2");
	HfError err = {0};
	g_autoptr(Qcow2w) w = qcow2w_new(size, NULL, map);
	assert_int_equal(qcow2w_create(w, img, &err), 0);
	for (uint64_t o = 0; o < size; o += 4 << 20)
		assert_int_equal(qcow2w_write(w, o, chunk, MIN(4 << 20, size - o), &err), 0);
	char hex[65];
	assert_int_equal(qcow2w_finish(w, hex, &err), 0);
	check_clean(img);
	g_unlink(img);
}

static void test_misuse(void **state)
{
	Fx *f = *state;
	uint64_t size = 1024 * 1024;
	uint64_t n = qcow2w_clusters(size);
	g_autofree uint8_t *map = g_malloc0(n);
	map[2] = map[3] = map[7] = QCOW2W_DATA;
	g_autofree uint8_t *data = g_malloc(4 * CS);
	for (uint64_t c = 0; c < 4; c++)
		cluster_bytes(data + c * CS, c, 6);
	g_autofree char *img = path_in(f, "bad.qcow2");
	HfError err = {0};
	g_autoptr(Qcow2w) w = qcow2w_new(size, NULL, map);
	assert_int_equal(qcow2w_next(w), 2 * CS);
	assert_int_equal(qcow2w_data_bytes(w), 3 * CS);
	assert_int_equal(qcow2w_create(w, img, &err), 0);
	assert_int_equal(qcow2w_write(w, 0, data, CS, &err), -1); /* not a data cluster */
	assert_string_equal(err.code, HF_ERR_INTERNAL);
	error_clear(&err);
	assert_int_equal(qcow2w_write(w, 2 * CS, data, 3 * CS, &err), -1); /* runs into 4 */
	error_clear(&err);
	assert_int_equal(qcow2w_write(w, 2 * CS, data, 100, &err), -1); /* ends mid-cluster */
	error_clear(&err);
	assert_int_equal(qcow2w_write(w, 2 * CS, data, 2 * CS, &err), 0);
	char hex[65];
	assert_int_equal(qcow2w_finish(w, hex, &err), -1); /* cluster 7 missing */
	assert_non_null(strstr(err.message, "before all data"));
	/* an existing file is never overwritten */
	g_autoptr(Qcow2w) w2 = qcow2w_new(size, NULL, map);
	error_clear(&err);
	assert_int_equal(qcow2w_create(w2, img, &err), -1);
	assert_non_null(strstr(err.message, img));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incremental_backing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_refcount_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
