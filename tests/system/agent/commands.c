/* commands.c - the QEMU guest agent commands, answered as qemu-ga for Windows answers them
 * (qga/commands.c, qga/commands-win32.c, qapi/qmp-dispatch.c). Replies use QEMU's JSON
 * spacing: {"return": {"pid": 1412}}. */
#include "winqga.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

int wq_allow_power; /* set by main in --port mode: guest-shutdown really powers off */

typedef void (*cmd_fn)(struct agent *a, const struct jval *args, struct sbuf *out);

struct command {
	const char *name;
	int major, minor; /* first qemu-ga version that had it */
	int win_disabled; /* blocked on Windows (ga_command_init_blockedrpcs) */
	int freeze_safe;  /* still allowed while frozen */
	int no_success;	  /* no reply on success (guest-shutdown) */
	cmd_fn fn;	  /* NULL: exists but the stand-in reports it unsupported */
};

void cmd_error(struct sbuf *out, const char *cls, const char *fmt, ...)
{
	char desc[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	sb_printf(out, "{\"error\": {\"class\": \"%s\", \"desc\": ", cls);
	sb_json_str(out, desc, strlen(desc));
	sb_puts(out, "}}");
}

int cmd_freeze_all(struct agent *a, int thaw)
{
	int n = 0;
	for (int i = 0; i < a->nfreeze; i++) {
		int fd = open(a->freeze[i], O_RDONLY | O_DIRECTORY);
		int r = fd < 0 ? -1 : ioctl(fd, thaw ? FITHAW : FIFREEZE, 0);
		wq_log("%s %s: %s", thaw ? "FITHAW" : "FIFREEZE", a->freeze[i],
		       r == 0 ? "ok" : strerror(errno));
		if (r == 0)
			n++;
		if (fd >= 0)
			close(fd);
	}
	return n;
}

static void c_sync(struct agent *a, const struct jval *args, struct sbuf *out)
{
	const struct jval *id = json_get(args, "id");
	if (!id || id->type != J_NUM) {
		cmd_error(out, "GenericError", "Parameter 'id' is missing");
		return;
	}
	a->synced = 1;
	sb_printf(out, "{\"return\": %s}", id->str);
}

static void c_ping(struct agent *a, const struct jval *args, struct sbuf *out)
{
	sb_puts(out, "{\"return\": {}}");
}

static const struct command *commands(size_t *n);

static int cmd_present(const struct agent *a, const struct command *c)
{
	return identity_agent_at_least(&a->id, c->major, c->minor);
}

static int cmd_enabled(const struct agent *a, const struct command *c)
{
	return !c->win_disabled && (!a->frozen || c->freeze_safe);
}

static void c_info(struct agent *a, const struct jval *args, struct sbuf *out)
{
	size_t n;
	const struct command *t = commands(&n);
	int first = 1;
	sb_puts(out, "{\"return\": {\"version\": ");
	sb_json_str(out, a->id.agent_version, strlen(a->id.agent_version));
	sb_puts(out, ", \"supported_commands\": [");
	for (size_t i = n; i-- > 0;) { /* qemu-ga lists them newest registration first */
		if (!cmd_present(a, &t[i]))
			continue;
		sb_printf(out, "%s{\"name\": \"%s\", \"enabled\": %s, \"success-response\": %s}",
			  first ? "" : ", ", t[i].name, cmd_enabled(a, &t[i]) ? "true" : "false",
			  t[i].no_success ? "false" : "true");
		first = 0;
	}
	sb_puts(out, "]}}");
}

static void c_osinfo(struct agent *a, const struct jval *args, struct sbuf *out)
{
	const struct identity *id = &a->id;
	int client = id->product_type == 1, r2 = id->build >= 7600;
	const char *machine = !strcmp(id->arch, "amd64") ? "x86_64" : id->arch;
	const char *version =
	    client ? (r2 ? "Microsoft Windows 7" : "Microsoft Windows Vista")
		   : (r2 ? "Microsoft Windows Server 2008 R2" : "Microsoft Windows Server 2008");
	const char *version_id = client ? (r2 ? "7" : "vista") : (r2 ? "2008r2" : "2008");
	sb_printf(out,
		  "{\"return\": {\"kernel-release\": \"%d\", \"kernel-version\": \"%s\", "
		  "\"machine\": \"%s\", \"id\": \"mswindows\", \"name\": \"Microsoft Windows\", "
		  "\"pretty-name\": ",
		  id->build, identity_version(id), machine);
	sb_json_str(out, id->product_name, strlen(id->product_name));
	sb_printf(out,
		  ", \"version\": \"%s\", \"version-id\": \"%s\", \"variant\": \"%s\", "
		  "\"variant-id\": \"%s\"}}",
		  version, version_id, client ? "client" : "server", client ? "client" : "server");
}

static void c_time(struct agent *a, const struct jval *args, struct sbuf *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Windows: FILETIME, 100 ns units */
	sb_printf(out, "{\"return\": %lld}",
		  ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec) / 100 * 100);
}

static void c_timezone(struct agent *a, const struct jval *args, struct sbuf *out)
{
	sb_puts(out, "{\"return\": {\"zone\": ");
	sb_json_str(out, a->id.timezone, strlen(a->id.timezone));
	sb_printf(out, ", \"offset\": %d}}", a->id.tz_offset);
}

static void c_hostname(struct agent *a, const struct jval *args, struct sbuf *out)
{
	sb_puts(out, "{\"return\": {\"host-name\": ");
	sb_json_str(out, a->id.hostname, strlen(a->id.hostname));
	sb_puts(out, "}}");
}

static void c_vcpus(struct agent *a, const struct jval *args, struct sbuf *out)
{
	sb_puts(out,
		"{\"return\": [{\"online\": true, \"can-offline\": false, \"logical-id\": 0}]}");
}

static void c_shutdown(struct agent *a, const struct jval *args, struct sbuf *out)
{
	const char *mode = json_get_str(args, "mode");
	if (mode && strcmp(mode, "powerdown") && strcmp(mode, "halt") && strcmp(mode, "reboot")) {
		cmd_error(out, "GenericError", "Parameter 'mode' expects halt|powerdown|reboot");
		return;
	}
	wq_log("SHUTDOWN mode=%s%s", mode ? mode : "powerdown",
	       wq_allow_power ? "" : " (local: ignored)");
	if (!wq_allow_power)
		return;
	if (a->frozen)
		cmd_freeze_all(a, 1);
	sync();
	reboot(mode && !strcmp(mode, "reboot") ? RB_AUTOBOOT : RB_POWER_OFF);
}

static void c_fsstatus(struct agent *a, const struct jval *args, struct sbuf *out)
{
	sb_printf(out, "{\"return\": \"%s\"}", a->frozen ? "frozen" : "thawed");
}

static void c_freeze(struct agent *a, const struct jval *args, struct sbuf *out)
{
	int n = cmd_freeze_all(a, 0);
	a->frozen = 1;
	if (a->id.misbehave & WQ_HANG_FREEZE) {
		/* VSS that never returns: the volumes stay frozen, the reply does not come */
		wq_log("FREEZE-HANG: not answering guest-fsfreeze-freeze%s",
		       a->id.hang_ms ? " until hang-ms" : "");
		if (a->id.hang_ms) {
			a->hang_until_ms = wq_now_ms() + a->id.hang_ms;
			snprintf(a->hang_reply, sizeof(a->hang_reply), "{\"return\": %d}", n);
		}
		return;
	}
	sb_printf(out, "{\"return\": %d}", n);
}

static void c_thaw(struct agent *a, const struct jval *args, struct sbuf *out)
{
	int n = a->frozen ? cmd_freeze_all(a, 1) : 0;
	a->frozen = 0;
	sb_printf(out, "{\"return\": %d}", n);
}

static const struct command TABLE[] = {
    {"guest-sync-delimited", 1, 1, 0, 1, 0, c_sync},
    {"guest-sync", 0, 15, 0, 1, 0, c_sync},
    {"guest-ping", 0, 15, 0, 1, 0, c_ping},
    {"guest-get-time", 1, 5, 0, 0, 0, c_time},
    {"guest-set-time", 1, 5, 0, 0, 0, NULL},
    {"guest-info", 0, 15, 0, 1, 0, c_info},
    {"guest-shutdown", 0, 15, 0, 0, 1, c_shutdown},
    {"guest-file-open", 0, 15, 0, 0, 0, NULL},
    {"guest-file-close", 0, 15, 0, 0, 0, NULL},
    {"guest-file-read", 0, 15, 0, 0, 0, NULL},
    {"guest-file-write", 0, 15, 0, 0, 0, NULL},
    {"guest-file-seek", 0, 15, 0, 0, 0, NULL},
    {"guest-file-flush", 0, 15, 0, 0, 0, NULL},
    {"guest-fsfreeze-status", 0, 15, 0, 1, 0, c_fsstatus},
    {"guest-fsfreeze-freeze", 0, 15, 0, 0, 0, c_freeze},
    {"guest-fsfreeze-freeze-list", 2, 2, 1, 0, 0, NULL},
    {"guest-fsfreeze-thaw", 0, 15, 0, 1, 0, c_thaw},
    {"guest-fstrim", 1, 2, 0, 0, 0, NULL},
    {"guest-suspend-disk", 1, 1, 0, 0, 1, NULL},
    {"guest-suspend-ram", 1, 1, 0, 0, 1, NULL},
    {"guest-suspend-hybrid", 1, 1, 1, 0, 1, NULL},
    {"guest-network-get-interfaces", 1, 1, 0, 0, 0, NULL},
    {"guest-get-vcpus", 1, 5, 0, 0, 0, c_vcpus},
    {"guest-set-vcpus", 1, 5, 1, 0, 0, NULL},
    {"guest-get-fsinfo", 2, 2, 0, 0, 0, NULL},
    {"guest-set-user-password", 2, 3, 0, 0, 0, NULL},
    {"guest-get-memory-blocks", 2, 3, 1, 0, 0, NULL},
    {"guest-set-memory-blocks", 2, 3, 1, 0, 0, NULL},
    {"guest-get-memory-block-info", 2, 3, 1, 0, 0, NULL},
    {"guest-exec-status", 2, 5, 0, 0, 0, exec_status},
    {"guest-exec", 2, 5, 0, 0, 0, exec_start},
    {"guest-get-host-name", 2, 10, 0, 0, 0, c_hostname},
    {"guest-get-users", 2, 10, 0, 0, 0, NULL},
    {"guest-get-timezone", 2, 10, 0, 0, 0, c_timezone},
    {"guest-get-osinfo", 2, 10, 0, 0, 0, c_osinfo},
};

static const struct command *commands(size_t *n)
{
	*n = sizeof(TABLE) / sizeof(TABLE[0]);
	return TABLE;
}

static void garbage(struct sbuf *out)
{
	static const char junk[] = "\x01\x02 ERROR_GEN_FAILURE \x80\xfe{\"return\": [[[}}}";
	sb_add(out, junk, sizeof(junk) - 1);
}

void cmd_dispatch(struct agent *a, const char *req, size_t len, struct sbuf *out)
{
	const char *err = NULL, *name;
	struct jval *v = json_parse(req, len, &err);
	const struct jval *args, *id;
	const struct command *c = NULL;
	size_t mark = out->len, n;
	if (!v) {
		cmd_error(out, "GenericError", "JSON parse error, %s", err);
		return;
	}
	name = json_get_str(v, "execute");
	args = json_get(v, "arguments");
	if (v->type != J_OBJ) {
		cmd_error(out, "GenericError", "QMP input must be a JSON object");
	} else if (!name) {
		cmd_error(out, "GenericError", "QMP input lacks member 'execute'");
	} else if (args && args->type != J_OBJ) {
		cmd_error(out, "GenericError", "QMP input member 'arguments' must be an object");
	} else {
		const struct command *t = commands(&n);
		for (size_t i = 0; i < n && !c; i++)
			if (!strcmp(t[i].name, name) && cmd_present(a, &t[i]))
				c = &t[i];
		int is_sync = c && c->fn == c_sync;
		if ((a->id.misbehave & WQ_SILENT) ||
		    ((a->id.misbehave & WQ_SILENT_AFTER_SYNC) && !is_sync)) {
			wq_log("SILENT: not answering %s", name);
		} else if ((a->id.misbehave & WQ_GARBAGE) && !is_sync) {
			garbage(out);
		} else if (!c) {
			cmd_error(out, "CommandNotFound", "The command %s has not been found",
				  name);
		} else if (!cmd_enabled(a, c)) {
			cmd_error(out, "CommandNotFound",
				  "The command %s has been disabled for this instance", name);
		} else if (!c->fn) {
			cmd_error(out, "GenericError",
				  "this feature or command is not currently supported");
		} else {
			if (!strcmp(name, "guest-sync-delimited"))
				sb_add(out, "\xff", 1);
			c->fn(a, args, out);
		}
	}
	/* a request's "id" comes back in its reply */
	id = json_get(v, "id");
	if (id && out->len > mark + 1 && out->p[out->len - 1] == '}' && out->p[mark] != '\x01') {
		struct sbuf idj = {0};
		if (id->type == J_STR)
			sb_json_str(&idj, id->str, id->len);
		else if (id->type == J_NUM)
			sb_puts(&idj, id->str);
		if (idj.len) {
			out->len--;
			sb_printf(out, ", \"id\": %s}", idj.p);
		}
		sb_free(&idj);
	}
	json_free(v);
}
