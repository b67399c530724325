/* test_jobnest.c - the job queue's locks as dr failover uses them: one job at a time per guest,
 * a job nested in a running job of its guest (the failover's final copy), a second host slot
 * (the DR host's max-jobs). Real jobs, real worker threads, the GLib main loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "daemon/drstore.h"
#include "daemon/jobs.h"

typedef struct {
	gint started;
	gint open;
} Gate;

static int gated(Job *job, HfError *err)
{
	Gate *g = job_ctx(job);
	(void)err;
	g_atomic_int_set(&g->started, 1);
	while (!g_atomic_int_get(&g->open))
		g_usleep(1000);
	return 0;
}

static int one_each(void *ctx, const char *host)
{
	(void)ctx;
	(void)host;
	return 1; /* max-jobs = 1 on every host */
}

static Job *submit(Jobs *jobs, const char *host, const char *guest, const char *also, Gate *g)
{
	JobSpec s = {.kind = "test", .host = host, .guest = guest, .also_host = also,
		     .run = gated, .ctx = g};
	return jobs_submit(jobs, &s);
}

static char *state(Job *j)
{
	cJSON *o = job_to_json(j);
	char *s = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(o, "state")));
	cJSON_Delete(o);
	return s;
}

/* Spin the main loop until job j is in state want (or 5 s pass). */
static bool reach(Job *j, const char *want)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		g_autofree char *s = state(j);
		if (!strcmp(s, want))
			return true;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	return false;
}

/* A while of main loop turns: whatever could start has started. */
static void settle(void)
{
	for (int i = 0; i < 50; i++) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

static void assert_state(Job *j, const char *want)
{
	g_autofree char *s = state(j);
	assert_string_equal(s, want);
}

typedef struct {
	char *dir;
	Jobs *jobs;
} Fx;

static int setup(void **st)
{
	Fx *f = g_new0(Fx, 1);
	HfError err = {0};
	f->dir = g_dir_make_tmp("hf-jobnest-XXXXXX", NULL);
	f->jobs = jobs_new(f->dir, one_each, NULL, &err);
	assert_non_null(f->jobs);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	Fx *f = *st;
	jobs_free(f->jobs);
	drstore_discard(f->dir);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* The failover holds the guest: a scheduled copy of it waits; the final copy, nested, runs
 * although the guest is busy and max-jobs is 1; a second failover of it waits too. */
static void nested_copy_runs_others_wait(void **st)
{
	Fx *f = *st;
	Gate fo = {0}, copy = {0}, sched = {0}, fo2 = {0};
	Job *a = submit(f->jobs, "lab", "w1", "dr", &fo);
	assert_true(reach(a, "running"));
	Job *s = submit(f->jobs, "lab", "w1", NULL, &sched);
	Job *b = submit(f->jobs, "lab", "w1", "dr", &fo2);
	Job *c = submit(f->jobs, "lab", "w1", NULL, &copy);
	settle();
	assert_state(s, "queued");
	assert_state(c, "queued");
	assert_true(jobs_nest(f->jobs, c, a));
	assert_true(reach(c, "running"));
	settle();
	assert_state(s, "queued"); /* the guest is still busy: parent and child hold it */
	assert_state(b, "queued");
	g_atomic_int_set(&copy.open, 1);
	assert_true(reach(c, "succeeded"));
	settle();
	assert_state(s, "queued"); /* the failover still runs */
	assert_state(b, "queued");
	g_atomic_int_set(&fo.open, 1);
	assert_true(reach(a, "succeeded"));
	assert_true(reach(s, "running")); /* FIFO: the scheduled copy, then the 2nd failover */
	settle();
	assert_state(b, "queued");
	g_atomic_int_set(&sched.open, 1);
	assert_true(reach(b, "running"));
	g_atomic_int_set(&fo2.open, 1);
	assert_true(reach(b, "succeeded"));
}

/* A nested copy still running when its parent ends keeps the guest busy. */
static void child_outliving_parent_holds_guest(void **st)
{
	Fx *f = *st;
	Gate p = {0}, c = {0}, o = {0};
	Job *a = submit(f->jobs, "lab", "w1", NULL, &p);
	assert_true(reach(a, "running"));
	Job *k = submit(f->jobs, "lab", "w1", NULL, &c);
	assert_true(jobs_nest(f->jobs, k, a));
	assert_true(reach(k, "running"));
	g_atomic_int_set(&p.open, 1);
	assert_true(reach(a, "succeeded"));
	Job *x = submit(f->jobs, "lab", "w1", NULL, &o);
	settle();
	assert_state(x, "queued");
	g_atomic_int_set(&c.open, 1);
	assert_true(reach(x, "running"));
	g_atomic_int_set(&o.open, 1);
	assert_true(reach(x, "succeeded"));
}

/* Only a queued job of the same host and guest nests. */
static void nest_refused(void **st)
{
	Fx *f = *st;
	Gate p = {0}, other = {0};
	Job *a = submit(f->jobs, "lab", "w1", NULL, &p);
	assert_true(reach(a, "running"));
	Job *k = submit(f->jobs, "lab", "w2", NULL, &other); /* max-jobs 1: queued */
	settle();
	assert_state(k, "queued");
	assert_false(jobs_nest(f->jobs, k, a));
	assert_false(jobs_nest(f->jobs, a, a));
	g_atomic_int_set(&p.open, 1);
	g_atomic_int_set(&other.open, 1);
	assert_true(reach(k, "succeeded"));
}

/* also_host: the failover takes a slot on the DR host too. */
static void second_host_slot(void **st)
{
	Fx *f = *st;
	Gate fo = {0}, dr = {0}, same = {0};
	Job *a = submit(f->jobs, "lab", "w1", "dr", &fo);
	assert_true(reach(a, "running"));
	Job *d = submit(f->jobs, "dr", "x", NULL, &dr);
	Job *s = submit(f->jobs, "dr2", "y", "dr2", &same); /* also_host = host: one slot */
	settle();
	assert_state(d, "queued");
	assert_true(reach(s, "running"));
	g_atomic_int_set(&fo.open, 1);
	assert_true(reach(d, "running"));
	g_atomic_int_set(&dr.open, 1);
	g_atomic_int_set(&same.open, 1);
	assert_true(reach(d, "succeeded"));
	assert_true(reach(s, "succeeded"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(nested_copy_runs_others_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(child_outliving_parent_holds_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(nest_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(second_host_slot, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
