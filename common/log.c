/* log.c - category/level logging on top of GLib's structured log writer. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static volatile gint threshold = LOG_LVL_INFO;
static enum { TO_STDERR, TO_JOURNAL, TO_SYSLOG } sink = TO_STDERR;

static const char *const names[] = {"error", "warning", "info", "debug"};

int log_level_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

void log_set_level(LogLevel lvl)
{
	g_atomic_int_set(&threshold, (gint)lvl);
}

/* Foreground: stderr, or structured journal fields when stderr is the journal (systemd).
 * Background (detached, stderr closed): syslog, which the journal also collects. */
void log_setup(LogLevel lvl, gboolean foreground)
{
	log_set_level(lvl);
	if (g_log_writer_is_journald(fileno(stderr)))
		sink = TO_JOURNAL;
	else if (foreground)
		sink = TO_STDERR;
	else {
		sink = TO_SYSLOG;
		openlog("holdfastd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void log_write(const char *category, LogLevel lvl, const char *fmt, ...)
{
	static const GLogLevelFlags glvl[] = {G_LOG_LEVEL_CRITICAL, G_LOG_LEVEL_WARNING,
					      G_LOG_LEVEL_INFO, G_LOG_LEVEL_DEBUG};
	g_autofree char *msg = NULL;
	va_list ap;

	if ((gint)lvl > g_atomic_int_get(&threshold))
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (sink == TO_SYSLOG) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[lvl], "%s: %s", category, msg);
		return;
	}
	if (sink == TO_STDERR) {
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autofree char *ts = g_date_time_format(now, "%H:%M:%S.%f");
		ts[12] = '\0'; /* milliseconds */
		fprintf(stderr, "%s %-7s %-10s %s\n", ts, names[lvl], category, msg);
		return;
	}
	static const char *const jprio[] = {"3", "4", "6", "7"};
	const GLogField fields[] = {
		{"PRIORITY", jprio[lvl], -1},
		{"MESSAGE", msg, -1},
		{"GLIB_DOMAIN", category, -1},
		{"SYSLOG_IDENTIFIER", "holdfastd", -1},
	};
	g_log_writer_journald(glvl[lvl], fields, G_N_ELEMENTS(fields), NULL);
}
