/* clock.c - real time, or the test clock driven by debug.clock. */
#include "clock.h"

#include <glib.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "timefmt.h"

static bool test_mode;
static _Atomic int64_t test_now;
static ClockMovedFn watch_fn;
static void *watch_opaque;

void clock_init(void)
{
	const char *on = g_getenv("HOLDFAST_TEST_CLOCK");
	test_mode = on && !strcmp(on, "1");
	if (!test_mode)
		return;
	const char *start = g_getenv("HOLDFAST_TEST_CLOCK_START");
	int64_t t = start ? timefmt_parse(start) : -1;
	atomic_store(&test_now, t >= 0 ? t : g_get_real_time() / G_USEC_PER_SEC);
	g_autofree char *iso = timefmt_iso(clock_now());
	hf_log("hf-clock", LOG_LVL_WARNING,
	       "HOLDFAST_TEST_CLOCK=1: schedules follow a test clock, "
	       "now %s; never use this in production",
	       iso);
}

bool clock_is_test(void)
{
	return test_mode;
}

int64_t clock_now(void)
{
	if (test_mode)
		return atomic_load(&test_now);
	return g_get_real_time() / G_USEC_PER_SEC;
}

int clock_set(int64_t t, HfError *err)
{
	if (!test_mode)
		return error_set(
		    err, HF_ERR_UNSUPPORTED,
		    "debug.clock: unsupported; holdfastd runs on the real clock (start "
		    "it with HOLDFAST_TEST_CLOCK=1 for a test clock)");
	if (t < clock_now())
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "debug.clock: the test clock never goes backwards");
	atomic_store(&test_now, t);
	if (watch_fn)
		watch_fn(watch_opaque);
	return 0;
}

int clock_advance(int64_t seconds, HfError *err)
{
	if (seconds < 0)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "debug.clock: advance must not be negative");
	return clock_set(clock_now() + seconds, err);
}

void clock_watch(ClockMovedFn fn, void *opaque)
{
	watch_fn = fn;
	watch_opaque = opaque;
}

cJSON *clock_debug(const cJSON *params, HfError *err)
{
	const char *set = cJSON_GetStringValue(cJSON_GetObjectItem(params, "set"));
	const cJSON *adv = cJSON_GetObjectItem(params, "advance");
	int rc = 0;

	if (!test_mode) {
		clock_set(0, err);
		return NULL;
	}
	if (set) {
		int64_t t = timefmt_parse(set);
		if (t < 0) {
			error_set(err, HF_ERR_INVALID_PARAMS,
				  "debug.clock: '%s' is not a time like 2027-05-10T00:00:00Z", set);
			return NULL;
		}
		rc = clock_set(t, err);
	}
	if (rc == 0 && cJSON_IsNumber(adv))
		rc = clock_advance((int64_t)adv->valuedouble, err);
	if (rc < 0)
		return NULL;
	cJSON *r = cJSON_CreateObject();
	g_autofree char *iso = timefmt_iso(clock_now());
	cJSON_AddStringToObject(r, "now", iso);
	cJSON_AddBoolToObject(r, "test", 1);
	return r;
}
