/* clock.h - the daemon's time source for schedules.
 *
 * clock_now() is the real time, or, when holdfastd runs with HOLDFAST_TEST_CLOCK=1 in its
 * environment, a test clock that only moves when told: `holdfast debug clock --set ISO` or
 * `--advance SECONDS` (method debug.clock, refused with "unsupported" otherwise). The test
 * clock starts at HOLDFAST_TEST_CLOCK_START (ISO 8601, UTC) when given, else at the real
 * time. Whoever schedules by it registers a watch and re-evaluates when the test clock moves,
 * so tests never sleep for the scheduler. clock_now() may be called from any thread. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef void (*ClockMovedFn)(void *opaque);

/* Read the environment once at start (main thread). */
void clock_init(void);
bool clock_is_test(void);
int64_t clock_now(void);
/* The test clock only (main thread); -1 with HF_ERR_UNSUPPORTED for the real clock. Time never
 * moves backwards: HF_ERR_INVALID_PARAMS. Watchers run before these return. */
int clock_set(int64_t t, HfError *err);
int clock_advance(int64_t seconds, HfError *err);
/* One watcher (the scheduler); NULL to remove. */
void clock_watch(ClockMovedFn fn, void *opaque);
/* debug.clock: params {"set":ISO} or {"advance":N}; the result {"now":ISO,"test":true}. */
cJSON *clock_debug(const cJSON *params, HfError *err);
