/* collect.c - one guest's build-check evidence through its QEMU guest agent.
 *
 * Agent commands go through libvirt (drv_agent_command), one JSON object each, built with
 * cJSON. libvirt synchronises the agent itself: guest-sync-delimited is never sent (it breaks
 * libvirt's agent channel until the guest restarts). The sequence:
 *
 *  1. guest-info -> {"version":"2.3.0","supported_commands":[{"name":..,"enabled":bool},..]}.
 *     An old agent lacks guest-get-osinfo (qemu-ga < 2.10) or guest-exec (< 2.5): we use what
 *     is there and mark the rest unavailable, naming the agent version and the command.
 *  2. guest-get-osinfo -> {"id":"mswindows","kernel-release":"6003","version-id":"2008",..}
 *     (bcparse_osinfo per string member). Another id ("debian", ...) means the guest is not
 *     Windows: nothing Windows-specific is run or parsed; the verdict says "not Windows".
 *  3. guest-exec {"path":..,"arg":[..],"capture-output":true} -> {"pid":N}, then
 *     guest-exec-status {"pid":N} until "exited":true (the agent forgets the process after
 *     that reply), polled 10 ms doubling to 200 ms, bounded by timeout_s from the start.
 *     "out-data"/"err-data" are base64 of the program's raw bytes in the OEM code page, each
 *     present only when not empty; "exitcode" is a signed 32-bit value (wmic's HRESULTs such
 *     as 0x80041017 arrive negative, some agents send them unsigned: both are taken);
 *     "signal" instead of "exitcode" means the process died (an NTSTATUS on Windows);
 *     "out-truncated"/"err-truncated" say the agent cut the output at 16 MiB.
 *     guest-exec does not use a shell and GLib's helper turns a literal `"` into `\"`, which
 *     reg.exe and wmic.exe do not understand: arguments below never contain a double quote,
 *     a WHERE clause is one argument without spaces, programs are full paths with .exe.
 *
 * The programs (C string escapes: "\\" is one backslash in the guest) and their parsers:
 *   registry      C:\Windows\System32\reg.exe query HKLM\SOFTWARE\Microsoft\Windows
 * NT\CurrentVersion
 *                 -> bcparse_reg_query: a blank line, the full key name, then per value
 *                 "    Name    REG_SZ    data" (4-space columns, CRLF). Exit code 1 = key or
 *                 value missing (the message is localised: only the exit code counts).
 *                 Then ... query HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions /v
 *                 ProductType into the same item (the role); its failure only loses the role.
 *   file-version  C:\Windows\System32\wbem\WMIC.exe datafile where
 *                 name='C:\\Windows\\System32\\ntoskrnl.exe' get Version /value
 *                 -> bcwmic_datafile: "\r\r\n\r\r\nVersion=6.0.6003.21481\r\r\n..." (every wmic
 *                 line ends in "\r\r\n" through a pipe); the dependable revision source.
 *   update-list   WMIC.exe qfe get HotFixID -> bcwmic_qfe: a padded header "HotFixID  " and one
 *                 row per update (some 2008 rows are GUIDs or bare numbers, kept as listed).
 *   licence-query per ESU year 1-3: WMIC.exe path SoftwareLicensingProduct where
 *                 ID='<activation id>' get ID,LicenseStatus /value -> bcwmic_licence
 *                 ("LicenseStatus=1" = licensed). wmic prints "No Instance(s) Available." on
 *                 stderr with exit code 0 when the id is not installed: stderr is parsed when
 *                 stdout is empty. */
#include "collect.h"

#include <string.h>

#include "log.h"

#define SYS32 "C:\\Windows\\System32\\"
#define REG_EXE SYS32 "reg.exe"
#define WMIC_EXE SYS32 "wbem\\WMIC.exe"
#define POLL_FIRST_US 10000
#define POLL_MAX_US 200000

typedef struct {
	DrvConn *conn;
	const char *guest;
	int timeout_s;
	CollectInfo *ci;
	BcEvidence *ev;
	cJSON *supported; /* guest-info supported_commands; NULL when not learned */
	HfError fatal;	  /* set once the agent is gone: later steps are not run */
} Col;

typedef struct {
	guchar *out, *errb;
	gsize out_len, err_len;
	bool exited_by_signal;
	int code; /* exit code, or the signal */
	bool truncated;
} ExecOut;

static void exec_out_clear(ExecOut *o)
{
	g_free(o->out);
	g_free(o->errb);
}

void collect_info_init(CollectInfo *ci)
{
	memset(ci, 0, sizeof *ci);
	ci->missing = g_ptr_array_new_with_free_func(g_free);
	ci->windows = true;
}

void collect_info_clear(CollectInfo *ci)
{
	g_free(ci->agent_version);
	g_free(ci->os_id);
	g_free(ci->os_name);
	if (ci->missing)
		g_ptr_array_unref(ci->missing);
	memset(ci, 0, sizeof *ci);
}

cJSON *collect_info_agent_json(const CollectInfo *ci)
{
	cJSON *o = cJSON_CreateObject();
	if (ci->agent_version)
		cJSON_AddStringToObject(o, "version", ci->agent_version);
	else
		cJSON_AddNullToObject(o, "version");
	cJSON *m = cJSON_AddArrayToObject(o, "missing");
	for (guint i = 0; ci->missing && i < ci->missing->len; i++)
		cJSON_AddItemToArray(m, cJSON_CreateString(ci->missing->pdata[i]));
	cJSON_AddNumberToObject(o, "calls", ci->agent_calls);
	cJSON_AddNumberToObject(o, "ms", (double)(ci->elapsed_us / 1000));
	return o;
}

cJSON *collect_info_os_json(const CollectInfo *ci)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "windows", ci->windows);
	if (ci->os_id)
		cJSON_AddStringToObject(o, "id", ci->os_id);
	else
		cJSON_AddNullToObject(o, "id");
	if (ci->os_name)
		cJSON_AddStringToObject(o, "name", ci->os_name);
	else
		cJSON_AddNullToObject(o, "name");
	return o;
}

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Errors after which asking the agent again is pointless. */
static bool is_fatal(const HfError *e)
{
	static const char *const codes[] = {HF_ERR_AGENT_TIMEOUT,    HF_ERR_AGENT_UNAVAILABLE,
					    HF_ERR_HOST_UNREACHABLE, HF_ERR_UNSUPPORTED,
					    HF_ERR_NOT_FOUND,	     HF_ERR_CONFLICT};
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
		if (!strcmp(e->code, codes[i]))
			return true;
	return false;
}

/* One agent command; *ret = its "return" member (detached). A fatal error is kept in
 * c->fatal too, so the remaining steps are skipped with that reason. */
static int agent_call(Col *c, cJSON *cmd, int timeout_s, cJSON **ret, HfError *err)
{
	g_autofree char *text = cJSON_PrintUnformatted(cmd);
	g_autofree char *reply = NULL;
	g_autofree char *name = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(cmd, "execute")));

	cJSON_Delete(cmd);
	c->ci->agent_calls++;
	if (drv_agent_command(c->conn, c->guest, text, MAX(1, timeout_s), 0, &reply, err) < 0) {
		if (is_fatal(err) && !c->fatal.code[0])
			c->fatal = *err;
		return -1;
	}
	cJSON *r = cJSON_Parse(reply);
	cJSON *v = cJSON_DetachItemFromObject(r, "return");
	cJSON_Delete(r);
	if (!v)
		return error_set(err, HF_ERR_FAILED,
				 "the guest agent of '%s' answered %s without a \"return\": %.120s",
				 c->guest, name, reply);
	*ret = v;
	return 0;
}

static cJSON *command(const char *execute)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "execute", execute);
	return o;
}

static bool agent_has(Col *c, const char *name)
{
	const cJSON *e;
	if (!c->supported)
		return true; /* guest-info said nothing: try */
	cJSON_ArrayForEach(e, c->supported)
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
		if (n && !strcmp(n, name))
			return !cJSON_IsFalse(cJSON_GetObjectItem(e, "enabled"));
	}
	return false;
}

static void note_missing(Col *c, const char *name)
{
	for (guint i = 0; i < c->ci->missing->len; i++)
		if (!strcmp(c->ci->missing->pdata[i], name))
			return;
	g_ptr_array_add(c->ci->missing, g_strdup(name));
}

static char *lacks(Col *c, const char *cmd, const char *since)
{
	return g_strdup_printf("the guest agent (qemu-ga %s) lacks %s (qemu-ga %s or later has it)",
			       c->ci->agent_version ? c->ci->agent_version : "of unknown version",
			       cmd, since);
}

static void unavailable(Col *c, BcSource src, const char *why)
{
	buildcheck_evidence_unavailable(c->ev, src, now_s(), why);
}

/* ---- guest-exec ---- */

static guchar *b64(const cJSON *v, gsize *len)
{
	const char *s = cJSON_GetStringValue(v);
	*len = 0;
	return s && *s ? g_base64_decode(s, len) : NULL;
}

static int32_t exit_code(double d)
{
	if (d > (double)INT32_MAX && d <= (double)UINT32_MAX)
		return (int32_t)(uint32_t)d; /* an HRESULT sent unsigned */
	return (int32_t)CLAMP(d, (double)INT32_MIN, (double)INT32_MAX);
}

/* Run path argv[] in the guest, wait until it exited (bounded by c->timeout_s). */
static int exec_run(Col *c, const char *path, const char *const *argv, ExecOut *o, HfError *err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)c->timeout_s * G_USEC_PER_SEC;
	cJSON *cmd = command("guest-exec"), *ret = NULL;
	cJSON *args = cJSON_AddObjectToObject(cmd, "arguments");
	cJSON_AddStringToObject(args, "path", path);
	cJSON *arr = cJSON_AddArrayToObject(args, "arg");
	for (; *argv; argv++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(*argv));
	cJSON_AddTrueToObject(args, "capture-output");

	if (agent_call(c, cmd, c->timeout_s, &ret, err) < 0)
		return -1;
	const cJSON *pidj = cJSON_GetObjectItem(ret, "pid");
	double pid = cJSON_IsNumber(pidj) ? pidj->valuedouble : -1;
	cJSON_Delete(ret);
	if (pid < 0)
		return error_set(err, HF_ERR_FAILED, "guest-exec of %s gave no pid", path);
	for (gulong wait = POLL_FIRST_US;; wait = MIN(wait * 2, POLL_MAX_US)) {
		gint64 left = deadline - g_get_monotonic_time();
		if (left <= 0)
			return error_set(err, HF_ERR_TIMEOUT,
					 "%s did not finish within %d s (check-timeout)", path,
					 c->timeout_s);
		cmd = command("guest-exec-status");
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(cmd, "arguments"), "pid", pid);
		int t = (int)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
		if (agent_call(c, cmd, t, &ret, err) < 0)
			return -1;
		if (cJSON_IsTrue(cJSON_GetObjectItem(ret, "exited")))
			break;
		cJSON_Delete(ret);
		ret = NULL;
		g_usleep(MIN(wait, (gulong)MAX(left, 0)));
	}
	o->out = b64(cJSON_GetObjectItem(ret, "out-data"), &o->out_len);
	o->errb = b64(cJSON_GetObjectItem(ret, "err-data"), &o->err_len);
	o->truncated = cJSON_IsTrue(cJSON_GetObjectItem(ret, "out-truncated")) ||
		       cJSON_IsTrue(cJSON_GetObjectItem(ret, "err-truncated"));
	const cJSON *ec = cJSON_GetObjectItem(ret, "exitcode");
	const cJSON *sig = cJSON_GetObjectItem(ret, "signal");
	o->exited_by_signal = !cJSON_IsNumber(ec) && cJSON_IsNumber(sig);
	o->code = cJSON_IsNumber(ec)	? exit_code(ec->valuedouble)
		  : o->exited_by_signal ? exit_code(sig->valuedouble)
					: 0;
	cJSON_Delete(ret);
	return 0;
}

/* The first line of the program's messages, printable ASCII only (OEM bytes replaced). */
static char *first_line(const ExecOut *o)
{
	const guchar *b = o->err_len ? o->errb : o->out;
	gsize n = o->err_len ? o->err_len : o->out_len;
	GString *s = g_string_new(NULL);
	for (gsize i = 0; i < n && s->len < 160; i++) {
		if (b[i] == '\r' || b[i] == '\n') {
			if (s->len)
				break;
			continue;
		}
		g_string_append_c(s, b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?');
	}
	return g_string_free(s, FALSE);
}

typedef int (*ParseFn)(const char *buf, size_t len, const char *arg, BcItem *it, HfError *err);

/* Run one program and feed its output to parse; on any failure mark src unavailable with the
 * reason. Returns 0 when parsed. */
static int exec_step(Col *c, BcSource src, BcItem **it, const char *path, const char *const *argv,
		     ParseFn parse, const char *arg, bool stderr_ok)
{
	g_autofree char *why = NULL;
	const char *prog = strrchr(path, '\\') ? strrchr(path, '\\') + 1 : path;
	ExecOut o = {0};
	HfError e = {0};

	if (c->fatal.code[0]) {
		why = g_strdup_printf("not run: %s", c->fatal.message);
	} else if (exec_run(c, path, argv, &o, &e) < 0) {
		why = g_strdup_printf("%s %s: %s", prog, argv[0], e.message);
	} else if (o.exited_by_signal) {
		why = g_strdup_printf("%s %s was terminated (0x%08x)", prog, argv[0],
				      (unsigned)o.code);
	} else if (o.code != 0) {
		g_autofree char *msg = first_line(&o);
		why = g_strdup_printf("%s %s exited with code %d (0x%08x)%s%s", prog, argv[0],
				      o.code, (unsigned)o.code, *msg ? ": " : "", msg);
	} else if (o.truncated) {
		why = g_strdup_printf("%s %s: the agent truncated the output", prog, argv[0]);
	} else {
		bool use_err = stderr_ok && !o.out_len;
		const char *buf = (const char *)(use_err ? o.errb : o.out);
		size_t len = use_err ? o.err_len : o.out_len;
		if (!*it)
			*it = buildcheck_evidence_item(c->ev, src, now_s());
		if (parse(buf, len, arg, *it, &e) < 0)
			why = g_strdup_printf("%s %s: %s [%s]", prog, argv[0], e.message, e.code);
	}
	exec_out_clear(&o);
	if (why) {
		hf_log("hf-check", LOG_LVL_DEBUG, "%s: %s unavailable: %s", c->guest,
		       buildcheck_source_name(src), why);
		unavailable(c, src, why);
		*it = NULL;
		return -1;
	}
	return 0;
}

static int p_reg(const char *b, size_t n, const char *a, BcItem *it, HfError *e)
{
	return bcparse_reg_query(b, n, it, e);
}
static int p_datafile(const char *b, size_t n, const char *a, BcItem *it, HfError *e)
{
	return bcwmic_datafile(b, n, it, e);
}
static int p_qfe(const char *b, size_t n, const char *a, BcItem *it, HfError *e)
{
	return bcwmic_qfe(b, n, it, e);
}
static int p_licence(const char *b, size_t n, const char *a, BcItem *it, HfError *e)
{
	return bcwmic_licence(b, n, a, it, e);
}

static void collect_exec(Col *c)
{
	static const char *const reg_cv[] = {
	    "query", "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", NULL};
	static const char *const reg_po[] = {
	    "query", "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ProductOptions", "/v",
	    "ProductType", NULL};
	static const char *const datafile[] = {
	    "datafile", "where",   "name='C:\\\\Windows\\\\System32\\\\ntoskrnl.exe'",
	    "get",	"Version", "/value",
	    NULL};
	static const char *const qfe[] = {"qfe", "get", "HotFixID", NULL};
	BcItem *it = NULL;

	if (exec_step(c, BC_SRC_REGISTRY, &it, REG_EXE, reg_cv, p_reg, NULL, false) == 0 &&
	    !c->fatal.code[0]) {
		/* the role only: a failure keeps what CurrentVersion gave */
		HfError e = {0};
		ExecOut o = {0};
		if (exec_run(c, REG_EXE, reg_po, &o, &e) == 0 && !o.exited_by_signal &&
		    o.code == 0 && bcparse_reg_query((const char *)o.out, o.out_len, it, &e) < 0)
			hf_log("hf-check", LOG_LVL_DEBUG, "%s: ProductType: %s", c->guest,
			       e.message);
		exec_out_clear(&o);
	}
	it = NULL;
	exec_step(c, BC_SRC_FILE_VERSION, &it, WMIC_EXE, datafile, p_datafile, NULL, false);
	it = NULL;
	exec_step(c, BC_SRC_UPDATE_LIST, &it, WMIC_EXE, qfe, p_qfe, NULL, false);
	it = NULL;
	for (int year = 1; year <= 3; year++) {
		const char *id = buildcheck_esu_activation_id(year);
		g_autofree char *where = g_strdup_printf("ID='%s'", id);
		const char *const lic[] = {"path", "SoftwareLicensingProduct", "where",	 where,
					   "get",  "ID,LicenseStatus",	       "/value", NULL};
		if (exec_step(c, BC_SRC_LICENCE_QUERY, &it, WMIC_EXE, lic, p_licence, id, true) < 0)
			break;
	}
}

/* ---- guest-info, guest-get-osinfo ---- */

static void collect_osinfo(Col *c)
{
	cJSON *ret = NULL;
	HfError e = {0};
	const cJSON *v;

	if (!agent_has(c, "guest-get-osinfo")) {
		g_autofree char *why = lacks(c, "guest-get-osinfo", "2.10");
		note_missing(c, "guest-get-osinfo");
		unavailable(c, BC_SRC_AGENT_OSINFO, why);
		return;
	}
	if (agent_call(c, command("guest-get-osinfo"), c->timeout_s, &ret, &e) < 0) {
		g_autofree char *why = g_strdup_printf("guest-get-osinfo: %s", e.message);
		unavailable(c, BC_SRC_AGENT_OSINFO, why);
		return;
	}
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(ret, "id"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ret, "pretty-name"));
	if (!name)
		name = cJSON_GetStringValue(cJSON_GetObjectItem(ret, "name"));
	c->ci->os_id = g_strndup(id, BC_STR_MAX);
	c->ci->os_name = g_strndup(name, BC_STR_MAX);
	if (id && strcmp(id, "mswindows")) {
		/* Linux kernel-release "6.1.0-13-amd64" is no Windows build: parse nothing */
		g_autofree char *why = g_strdup_printf(
		    "the guest agent reports %s (id %s), not Windows", name ? name : id, id);
		c->ci->windows = false;
		unavailable(c, BC_SRC_AGENT_OSINFO, why);
		cJSON_Delete(ret);
		return;
	}
	BcItem *it = buildcheck_evidence_item(c->ev, BC_SRC_AGENT_OSINFO, now_s());
	cJSON_ArrayForEach(v, ret)
	{
		if (cJSON_IsString(v) && bcparse_osinfo(v->string, v->valuestring, it, &e) < 0) {
			g_autofree char *why = g_strdup_printf("guest-get-osinfo: %s", e.message);
			unavailable(c, BC_SRC_AGENT_OSINFO, why);
			break;
		}
	}
	cJSON_Delete(ret);
}

/* ---- Hyper-V KVP (no agent) ---- */

/* Sources that only a guest agent can give. */
static const BcSource agent_sources[] = {BC_SRC_AGENT_OSINFO, BC_SRC_REGISTRY, BC_SRC_FILE_VERSION,
					 BC_SRC_UPDATE_LIST, BC_SRC_LICENCE_QUERY};

/* The hypervisor's own view of the guest OS (Hyper-V GuestIntrinsicExchangeItems): OSName,
 * OSVersion "6.0.6003", CSDVersion, ProductType, ProcessorArchitecture... each through
 * bcparse_kvp. It has no revision, no update list and no licence state: the verdict says so
 * through the agent sources being unavailable. Returns 1 when the backend has KVP, 0 when it
 * has none (libvirt), -1 when the guest or host is gone (err set). */
static int collect_kvp(Col *c, HfError *err)
{
	g_autoptr(GHashTable) items = NULL;
	GHashTableIter it;
	gpointer k, v;
	HfError e = {0};

	if (!c->conn->drv->guest_kvp)
		return 0;
	if (drv_guest_kvp(c->conn, c->guest, 0, &items, &e) < 0) {
		if (!strcmp(e.code, HF_ERR_NOT_FOUND) || !strcmp(e.code, HF_ERR_HOST_UNREACHABLE))
			return error_set(err, e.code, "%s", e.message);
		unavailable(c, BC_SRC_HYPERV_KVP, e.message);
		return 1;
	}
	if (g_hash_table_size(items) == 0) {
		unavailable(c, BC_SRC_HYPERV_KVP,
			    "the guest reports no KVP items (off, or its integration services are "
			    "not running)");
		return 1;
	}
	BcItem *item = buildcheck_evidence_item(c->ev, BC_SRC_HYPERV_KVP, now_s());
	g_hash_table_iter_init(&it, items);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (bcparse_kvp(k, v, item, &e) < 0) {
			unavailable(c, BC_SRC_HYPERV_KVP, e.message);
			return 1;
		}
	}
	const char *os = g_hash_table_lookup(items, "OSName");
	if (os) {
		c->ci->os_name = g_strndup(os, 128);
		c->ci->windows = strstr(os, "Windows") != NULL;
	}
	return 1;
}

int collect_guest(DrvConn *conn, const char *guest, int timeout_s, BcEvidence *ev, CollectInfo *ci,
		  HfError *err)
{
	static const BcSource exec_sources[] = {BC_SRC_REGISTRY, BC_SRC_FILE_VERSION,
						BC_SRC_UPDATE_LIST, BC_SRC_LICENCE_QUERY};
	Col c = {.conn = conn, .guest = guest, .timeout_s = MAX(1, timeout_s), .ci = ci, .ev = ev};
	gint64 t0 = g_get_monotonic_time();
	cJSON *info = NULL;
	HfError e = {0};
	int kvp = collect_kvp(&c, err);

	if (kvp < 0)
		return -1;
	if (!conn->drv->agent_command) { /* no agent channel (Hyper-V): KVP is all there is */
		g_autofree char *why = g_strdup_printf(
			"the %s backend has no guest agent channel; %s", conn->drv->name,
			kvp ? "Hyper-V KVP gives OSVersion, CSDVersion and ProductType but no revision, "
			      "update list or licence state"
			    : "nothing can be collected");
		for (size_t i = 0; i < G_N_ELEMENTS(agent_sources); i++)
			unavailable(&c, agent_sources[i], why);
		ci->elapsed_us = g_get_monotonic_time() - t0;
		return kvp ? 0 : error_set(err, HF_ERR_UNSUPPORTED, "%s", why);
	}
	if (agent_call(&c, command("guest-info"), c.timeout_s, &info, &e) < 0) {
		if (c.fatal.code[0]) {
			ci->elapsed_us = g_get_monotonic_time() - t0;
			return error_set(err, e.code, "%s", e.message);
		}
		hf_log("hf-check", LOG_LVL_DEBUG, "%s: guest-info: %s", guest, e.message);
	} else {
		ci->agent_version =
		    g_strndup(cJSON_GetStringValue(cJSON_GetObjectItem(info, "version")), 64);
		c.supported = cJSON_GetObjectItem(info, "supported_commands");
		if (!cJSON_IsArray(c.supported))
			c.supported = NULL;
	}
	collect_osinfo(&c);
	if (!ci->windows) {
		for (size_t i = 0; i < G_N_ELEMENTS(exec_sources); i++)
			unavailable(&c, exec_sources[i], "not run: the guest is not Windows");
	} else if (!agent_has(&c, "guest-exec") || !agent_has(&c, "guest-exec-status")) {
		g_autofree char *why = lacks(&c, "guest-exec", "2.5");
		note_missing(&c, "guest-exec");
		for (size_t i = 0; i < G_N_ELEMENTS(exec_sources); i++)
			unavailable(&c, exec_sources[i], why);
	} else {
		collect_exec(&c);
	}
	cJSON_Delete(info);
	ci->elapsed_us = g_get_monotonic_time() - t0;
	return 0;
}

int collect_program(DrvConn *conn, const char *guest, int timeout_s, const char *path,
		    const char *const *argv, char **out, gsize *out_len, int *code, HfError *err)
{
	CollectInfo ci;
	collect_info_init(&ci);
	Col c = {.conn = conn, .guest = guest, .timeout_s = MAX(1, timeout_s), .ci = &ci};
	ExecOut o = {0};
	int rc = exec_run(&c, path, argv, &o, err);
	if (rc == 0 && o.exited_by_signal)
		rc = error_set(err, HF_ERR_FAILED, "%s died (signal or NTSTATUS %d) in guest '%s'",
			       path, o.code, guest);
	if (rc == 0) {
		*out = g_strndup((const char *)(o.out ? o.out : (guchar *)""), o.out_len);
		*out_len = o.out_len;
		*code = o.code;
	}
	exec_out_clear(&o);
	collect_info_clear(&ci);
	return rc;
}
