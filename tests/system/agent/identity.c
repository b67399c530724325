/* identity.c - who the simulated Windows guest is: "key = value" identity files.
 *
 * One "key = value" per line, '#' comments; unset keys keep the defaults below (a 6002 SP2
 * x64 Standard). Lists are separated by spaces or commas; each assignment replaces the list.
 *   name hostname                 identity name; NetBIOS host name (guest-get-host-name)
 *   build revision                6001/6002/6003/7600/7601; ntoskrnl file revision
 *   arch                          x86 | amd64 | ia64   (osinfo machine, BuildLabEx, systeminfo)
 *   product-type                  1 workstation, 2 domain controller, 3 server
 *   edition-id product-name       EditionID, ProductName (also osinfo pretty-name)
 *   csd-version                   "Service Pack 2"; empty: no CSDVersion value (RTM)
 *   branch build-date             BuildLab(Ex) parts: vistasp2_ldr_escrow, 220406-1606
 *   buildlab buildlabex           set verbatim instead of deriving them
 *   registered-owner product-id install-date (seconds since 1970)
 *   kbs                           installed updates (wmic qfe, systeminfo); KB4538484 or
 *                                 KB4575904 (R2: ...83/...03) puts the ESU ids in the licence store
 *   esu-years                     licensed ESU years (1 2 3): LicenseStatus 1 for their ids
 *   agent-version                 qemu-ga version: < 2.5 no guest-exec, < 2.10 no osinfo
 *   misbehave                     none | hang-freeze | silent | silent-after-sync | garbage
 *   delay-ms hang-ms exec-ms      reply delay; late answer of a hung freeze (0: never);
 *                                 run time of a simulated program (exited:false until then)
 *   timezone tz-offset            guest-get-timezone
 *   listen                        TCP ports the guest's services listen on (3389 445): real
 *                                 sockets in the stand-in, so netstat -an lists them */
#include "winqga.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

int identity_defaults(struct identity *id)
{
	memset(id, 0, sizeof(*id));
	COPY(id->name, "default");
	COPY(id->hostname, "WIN2008-STANDIN");
	id->build = 6002;
	id->revision = 24564;
	COPY(id->arch, "amd64");
	id->product_type = 3;
	COPY(id->edition_id, "ServerStandard");
	COPY(id->product_name, "Windows Server (R) 2008 Standard");
	COPY(id->csd_version, "Service Pack 2");
	COPY(id->branch, "vistasp2_ldr_escrow");
	COPY(id->build_date, "190311-1800");
	COPY(id->registered_owner, "Windows User");
	COPY(id->product_id, "92573-082-2500115-76258");
	id->install_date = 1245392400; /* 2009-06-19 */
	COPY(id->agent_version, "4.2.0");
	id->exec_ms = 40;
	COPY(id->timezone, "Coordinated Universal Time");
	return 0;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
	char *e;
	long n = strtol(v, &e, 10);
	if (!*v || *e || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

static int set_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_list(struct identity *id, const char *key, char *v, const char **why)
{
	char *save = NULL;
	/* every assignment replaces the list */
	if (!strcmp(key, "kbs"))
		id->nkbs = 0;
	else if (!strcmp(key, "esu-years"))
		id->esu_years = 0;
	else if (!strcmp(key, "listen"))
		id->nlisten = 0;
	else
		id->misbehave = 0;
	for (char *w = strtok_r(v, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		long n;
		if (!strcmp(key, "kbs")) {
			if (id->nkbs >= WQ_MAX_KBS || strlen(w) >= sizeof(id->kbs[0])) {
				*why = "too many or too long hotfix ids";
				return -1;
			}
			COPY(id->kbs[id->nkbs++], w);
		} else if (!strcmp(key, "esu-years")) {
			if (parse_int(w, 1, 3, &n) < 0) {
				*why = "ESU years are 1, 2 or 3";
				return -1;
			}
			id->esu_years |= 1u << n;
		} else if (!strcmp(key, "listen")) {
			if (id->nlisten >= WQ_MAX_LISTEN || parse_int(w, 1, 65535, &n) < 0) {
				*why = "listen takes up to 8 TCP ports (1-65535)";
				return -1;
			}
			id->listen[id->nlisten++] = (int)n;
		} else if (!strcmp(w, "none")) {
			id->misbehave = 0;
		} else if (!strcmp(w, "hang-freeze")) {
			id->misbehave |= WQ_HANG_FREEZE;
		} else if (!strcmp(w, "silent")) {
			id->misbehave |= WQ_SILENT;
		} else if (!strcmp(w, "silent-after-sync")) {
			id->misbehave |= WQ_SILENT_AFTER_SYNC;
		} else if (!strcmp(w, "garbage")) {
			id->misbehave |= WQ_GARBAGE;
		} else {
			*why = "unknown misbehaviour (none hang-freeze silent silent-after-sync "
			       "garbage)";
			return -1;
		}
	}
	return 0;
}

static int set_key(struct identity *id, const char *k, char *v, const char **why)
{
	static const struct {
		const char *key;
		size_t off, len;
	} strs[] = {
#define S(k, f) {k, offsetof(struct identity, f), sizeof(((struct identity *)0)->f)}
	    S("name", name),
	    S("hostname", hostname),
	    S("arch", arch),
	    S("edition-id", edition_id),
	    S("product-name", product_name),
	    S("csd-version", csd_version),
	    S("branch", branch),
	    S("build-date", build_date),
	    S("buildlabex", buildlabex),
	    S("buildlab", buildlab),
	    S("registered-owner", registered_owner),
	    S("product-id", product_id),
	    S("agent-version", agent_version),
	    S("timezone", timezone),
#undef S
	};
	static const struct {
		const char *key;
		size_t off;
		long lo, hi;
	} ints[] = {
#define I(k, f, lo, hi) {k, offsetof(struct identity, f), lo, hi}
	    I("build", build, 2600, 9999),
	    I("revision", revision, 0, 65535),
	    I("product-type", product_type, 1, 3),
	    I("delay-ms", delay_ms, 0, 600000),
	    I("hang-ms", hang_ms, 0, 3600000),
	    I("exec-ms", exec_ms, 0, 600000),
	    I("tz-offset", tz_offset, -50400, 50400),
#undef I
	};
	long n;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(k, strs[i].key))
			continue;
		if (set_str((char *)id + strs[i].off, strs[i].len, v) < 0) {
			*why = "value too long";
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (strcmp(k, ints[i].key))
			continue;
		if (parse_int(v, ints[i].lo, ints[i].hi, &n) < 0) {
			*why = "integer out of range";
			return -1;
		}
		*(int *)((char *)id + ints[i].off) = (int)n;
		return 0;
	}
	if (!strcmp(k, "install-date")) {
		if (parse_int(v, 0, 0x7fffffff, &n) < 0) {
			*why = "install-date is seconds since 1970";
			return -1;
		}
		id->install_date = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "kbs") || !strcmp(k, "esu-years") || !strcmp(k, "misbehave") ||
	    !strcmp(k, "listen"))
		return set_list(id, k, v, why);
	*why = "unknown key";
	return -1;
}

int identity_load(struct identity *id, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0;
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *why = NULL;
		char *eq, *s = trim(line);
		lineno++;
		if (!*s || *s == '#')
			continue;
		if (!(eq = strchr(s, '='))) {
			why = "expected key = value";
		} else {
			*eq = 0;
			set_key(id, trim(s), trim(eq + 1), &why);
		}
		if (why) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	identity_finish(id);
	return 0;
}

void identity_finish(struct identity *id)
{
	if (!id->buildlab[0])
		snprintf(id->buildlab, sizeof(id->buildlab), "%d.%s.%s", id->build, id->branch,
			 id->build_date);
	if (!id->buildlabex[0])
		snprintf(id->buildlabex, sizeof(id->buildlabex), "%d.%d.%sfre.%s.%s", id->build,
			 id->revision, id->arch, id->branch, id->build_date);
}

int identity_agent_at_least(const struct identity *id, int major, int minor)
{
	int ma = 0, mi = 0;
	if (sscanf(id->agent_version, "%d.%d", &ma, &mi) < 1)
		return 1;
	return ma > major || (ma == major && mi >= minor);
}

int identity_has_kb(const struct identity *id, const char *kb)
{
	for (int i = 0; i < id->nkbs; i++)
		if (!strcasecmp(id->kbs[i], kb))
			return 1;
	return 0;
}

const char *identity_version(const struct identity *id)
{
	return id->build >= 7600 ? "6.1" : "6.0";
}

int identity_set(struct identity *id, const char *kv, char *err, size_t errlen)
{
	char buf[512], *eq;
	const char *why = NULL;
	snprintf(buf, sizeof(buf), "%s", kv);
	if (!(eq = strchr(buf, '='))) {
		snprintf(err, errlen, "--set %s: expected key=value", kv);
		return -1;
	}
	*eq = 0;
	if (set_key(id, trim(buf), trim(eq + 1), &why) < 0) {
		snprintf(err, errlen, "--set %s: %s", kv, why);
		return -1;
	}
	if (!strcmp(trim(buf), "revision") || !strcmp(trim(buf), "build"))
		id->buildlab[0] = id->buildlabex[0] = 0;
	identity_finish(id);
	return 0;
}

void identity_listen(const struct identity *id)
{
	for (int i = 0; i < id->nlisten; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(id->listen[i])};
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
			wq_log("listen on TCP %d failed: %s", id->listen[i], strerror(errno));
			if (fd >= 0)
				close(fd);
		} /* else: kept open for the agent's life, never accepted (a backlog of 8) */
	}
}
