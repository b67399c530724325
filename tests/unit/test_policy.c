/* Unit tests: [policy NAME] sections (daemon/policy.c through config_load). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/policy.h"

static char *write_conf(const char *body)
{
	char *path = NULL;
	int fd = g_file_open_tmp("hfpolicy-XXXXXX.conf", &path, NULL);
	assert_true(fd >= 0);
	close(fd);
	g_autofree char *text = g_strdup_printf("[daemon]\nstate-dir = /tmp\n%s", body);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static HfConfig *load_ok(const char *body)
{
	g_autofree char *path = write_conf(body);
	HfConfig *cfg = NULL;
	HfError err = {0};
	int rc = config_load(path, &cfg, &err);
	if (rc != 0)
		fail_msg("config_load: %s", err.message);
	g_unlink(path);
	return cfg;
}

/* The error must name the file, the line and the key, and contain `want`. */
static void load_bad(const char *body, int line, const char *key, const char *want)
{
	g_autofree char *path = write_conf(body);
	HfConfig *cfg = NULL;
	HfError err = {0};
	assert_int_equal(config_load(path, &cfg, &err), -1);
	assert_null(cfg);
	assert_string_equal(err.code, HF_ERR_CONFIG);
	g_autofree char *where = g_strdup_printf("%s:%d:", path, line);
	if (!strstr(err.message, where) || (key && !strstr(err.message, key)) ||
	    !strstr(err.message, want))
		fail_msg("got '%s'; wanted %s, %s and '%s'", err.message, where, key ? key : "-",
			 want);
	g_unlink(path);
}

static void test_full_policy(void **state)
{
	g_autoptr(HfConfig) cfg = load_ok("[policy nightly]\n"
					  "schedule = *-*-* 02:30:00\n"
					  "timezone = Europe/Berlin\n"
					  "guests = w2k8-*, demo/app*\n"
					  "quiesce = yes\n"
					  "keep-daily = 7\nkeep-weekly = 4\nkeep-monthly = 6\n"
					  "keep-yearly = 1\n"
					  "max-concurrent = 4\nstagger = 600\nmax-runtime = 14400\n"
					  "prune-limit = 25\nmin-free = 10\nretries = 2\n"
					  "retry-backoff = 60\nnotify = mail -s holdfast root\n");
	assert_int_equal(cfg->policies->len, 1);
	const Policy *p = cfg->policies->pdata[0];
	assert_string_equal(p->name, "nightly");
	assert_string_equal(calendar_normalized(p->cal), "*-*-* 02:30:00");
	assert_string_equal(p->quiesce, "yes");
	assert_int_equal(p->rules.keep[RETENTION_DAILY], 7);
	assert_int_equal(p->rules.keep[RETENTION_YEARLY], 1);
	assert_int_equal(p->max_concurrent, 4);
	assert_int_equal(p->stagger, 600);
	assert_int_equal(p->max_runtime, 14400);
	assert_int_equal(p->prune_limit, 25);
	assert_int_equal(p->min_free, 10);
	assert_int_equal(p->retries, 2);
	assert_int_equal(p->retry_backoff, 60);
	assert_string_equal(p->notify, "mail -s holdfast root");
	/* the schedule's zone: 02:30 CEST = 00:30Z */
	int64_t next = 0;
	HfError err = {0};
	assert_int_equal(calendar_next(p->cal, 1809907200 /* 2027-05-10T00:00Z */, &next, &err), 0);
	assert_int_equal(next, 1809909000);
	g_autofree char *name = policy_snapshot_name(p, next);
	assert_string_equal(name, "hf-nightly-20270510T003000Z");
	/* guests: NAME globs, HOST/NAME globs */
	assert_true(policy_selects(p, "demo", "w2k8-dc01", NULL));
	assert_true(policy_selects(p, "demo", "app01", NULL));
	assert_false(policy_selects(p, "other", "app01", NULL));
	assert_false(policy_selects(p, "demo", "debian-tools", NULL));
	/* stagger: stable, within 0..stagger-1, spread */
	int a = policy_offset(p, "demo/w2k8-dc01"), b = policy_offset(p, "demo/w2k8-sql01");
	assert_true(a >= 0 && a < 600 && b >= 0 && b < 600 && a != b);
	assert_int_equal(a, policy_offset(p, "demo/w2k8-dc01"));
}

static void test_defaults_and_tags(void **state)
{
	g_autoptr(HfConfig) cfg = load_ok("[policy a]\nschedule = daily\nguests = tag:prod\n"
					  "[policy b]\nschedule = Mon..Fri 02:00\nguests = *\n");
	const Policy *a = cfg->policies->pdata[0], *b = cfg->policies->pdata[1];
	assert_string_equal(a->quiesce, "try");
	assert_int_equal(a->prune_limit, 50);
	assert_int_equal(a->min_free, 0);
	assert_int_equal(a->stagger, 0);
	assert_true(retention_rules_keep_all(&a->rules));
	assert_null(a->timezone);
	char *tags[] = {"files", "prod", NULL};
	assert_true(policy_selects(a, "demo", "x", tags));
	assert_false(policy_selects(a, "demo", "x", NULL));
	assert_true(policy_selects(b, "demo", "anything", NULL));
	assert_string_equal(calendar_normalized(b->cal), "Mon..Fri *-*-* 02:00:00");
	/* rules hash: equal rules, equal hash; a change, another hash */
	g_autofree char *h1 = policy_rules_hash(&a->rules);
	RetentionRules r = a->rules;
	g_autofree char *h2 = policy_rules_hash(&r);
	r.keep[RETENTION_DAILY] = 7;
	g_autofree char *h3 = policy_rules_hash(&r);
	assert_string_equal(h1, h2);
	assert_string_not_equal(h1, h3);
}

static void test_errors(void **state)
{
	/* [daemon] and state-dir take lines 1 and 2 */
	load_bad("[policy p]\nschedule = Mon..Fry 02:00\n", 4, "schedule", "Fry");
	load_bad("[policy p]\nschedule = daily\ntimezone = Mars/Olympus\n", 5, "timezone",
		 "not a time zone");
	load_bad("[policy p]\nschedule = daily\nguests = *\nkeep-daily = -1\n", 6, "keep-daily",
		 "expected a count");
	load_bad("[policy p]\nschedule = daily\nguests = *\nquiesce = maybe\n", 6, "quiesce",
		 "no, yes, try");
	load_bad("[policy p]\nschedule = daily\nguests = *\nprune-limit = 101\n", 6, "prune-limit",
		 "0..100");
	load_bad("[policy p]\nschedule = daily\nguests = *\nstagger = soon\n", 6, "stagger",
		 "whole number");
	load_bad("[policy p]\nschedule = daily\nguests = *\nmin-free = 100\n", 6, "min-free",
		 "0..99");
	load_bad("[policy p]\nschedule = daily\nguests = *\nretry-backoff = 0\n", 6,
		 "retry-backoff", "1..86400");
	load_bad("[policy p]\nschedule = daily\nguests = *\nkeep-forever = 1\n", 6, "keep-forever",
		 "unknown retention rule");
	load_bad("[policy p]\nschedule = daily\nguests = *\nwhatever = 1\n", 6, "whatever",
		 "unknown key");
	load_bad("[policy p]\nschedule = daily\nguests =\n", 5, "guests", "empty");
	load_bad("[policy p]\nschedule = daily\nguests = tag:\n", 5, "guests", "tag:");
	load_bad("[policy p]\nschedule = daily\nguests = a/b/c\n", 5, "guests", "HOST/NAME");
	load_bad("[policy p]\nschedule = daily\nnotify =\n", 5, "notify", "empty");
	load_bad("[policy p]\nschedule = daily\nschedule = hourly\n", 5, "schedule", "twice");
	load_bad("[policy p]\nguests = *\n", 3, "schedule", "missing");
	load_bad("[policy p]\nschedule = daily\n", 3, "guests", "missing");
	load_bad("[policy p]\nschedule = daily\nguests = *\n[policy p]\n", 6, NULL,
		 "defined twice");
	load_bad("[policy bad name!]\n", 3, NULL, "policy name");
	load_bad("[policy p]\nschedule = *-02-30\nguests = *\n", 4, "schedule", "*-02-30");
}

/* action = dr-copy: store and full-every, validated with file:line like the other keys. */
static void test_dr_copy(void **state)
{
	g_autoptr(HfConfig) cfg = load_ok("[policy dr]\n"
					  "schedule = *-*-* 01:00:00\n"
					  "guests = *\n"
					  "action = dr-copy\n"
					  "store = site2\n"
					  "full-every = 3\n"
					  "keep-last = 3\n"
					  "[policy snaps]\n"
					  "schedule = daily\n"
					  "guests = *\n"
					  "[drstore site2]\n"
					  "path = /tmp\n");
	const Policy *p = cfg->policies->pdata[0], *q = cfg->policies->pdata[1];
	assert_int_equal(p->action, POLICY_DR_COPY);
	assert_string_equal(p->store, "site2");
	assert_int_equal(p->full_every, 3);
	assert_int_equal(p->rules.keep[RETENTION_LAST], 3);
	assert_int_equal(q->action, POLICY_SNAPSHOT);
	assert_int_equal(q->full_every, 7);
	g_autoptr(cJSON) j = policy_to_json(p);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "action")), "dr-copy");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "full_every")), 3);

	const char *base = "[policy p]\nschedule = daily\nguests = *\n";
	g_autofree char *no_store = g_strconcat(base, "action = dr-copy\n", NULL);
	load_bad(no_store, 3, "store", "missing");
	g_autofree char *unknown =
	    g_strconcat(base, "action = dr-copy\nstore = far\n[drstore near]\npath = /tmp\n", NULL);
	load_bad(unknown, 7, "store", "no [drstore far]");
	g_autofree char *snap_store =
	    g_strconcat(base, "store = x\n[drstore x]\npath = /tmp\n", NULL);
	load_bad(snap_store, 6, "store", "only for action = dr-copy");
	g_autofree char *bad_action = g_strconcat(base, "action = mirror\n", NULL);
	load_bad(bad_action, 6, "action", "snapshot, dr-copy");
	g_autofree char *bad_every = g_strconcat(base, "full-every = 0\n", NULL);
	load_bad(bad_every, 6, "full-every", "1..1000");
	g_autofree char *snap_every = g_strconcat(base, "full-every = 3\n", NULL);
	load_bad(snap_every, 6, "full-every", "only for action = dr-copy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_policy),
	    cmocka_unit_test(test_defaults_and_tags),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_dr_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
