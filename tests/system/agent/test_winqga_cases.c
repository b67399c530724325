/* test_winqga_cases.c - what winqga must answer, byte for byte (see windows-builds.md) */
#include "test_winqga.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define CURVER "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
#define CURVER_FULL "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
#define REG "C:\\Windows\\System32\\reg.exe"
#define WMIC "C:\\Windows\\System32\\wbem\\WMIC.exe"
#define CSCRIPT "C:\\Windows\\System32\\cscript.exe"
#define SLMGR "C:\\Windows\\System32\\slmgr.vbs"
#define ESU1 "553673ed-6ddf-419c-a153-b760283472fd"
#define ESU3 "16c08c85-0c8b-4009-9b2b-f1f7319e45f9"
#define NOT_FOUND_ERR                                                                              \
	"{\"error\": {\"class\": \"GenericError\", \"desc\": \"Guest agent command failed, error " \
	"was 'Failed to execute child process (No such file or directory)'\"}}"

#define PARSE_ERR "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error"

static void send_str(struct peer *p, const char *s)
{
	send_raw(p, s, strlen(s));
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_protocol(void)
{
	struct peer p;
	char *r;
	size_t n;
	start(&p, "w2k8-6003-esu3", NULL, NULL);
	same_str(
	    "guest-sync echoes a 64-bit id",
	    call(&p, "{\"execute\":\"guest-sync\", \"arguments\":{\"id\":9007199254740993123}}"),
	    "{\"return\": 9007199254740993123}");
	send_str(&p, "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":42}}\n");
	r = reply(&p, 5000, &n);
	same("guest-sync-delimited: 0xFF, then the reply", r, n, "\xff{\"return\": 42}");
	free(r);
	same_str("guest-ping", call(&p, "{\"execute\":\"guest-ping\"}"), "{\"return\": {}}");
	same_str(
	    "unknown command: CommandNotFound", call(&p, "{\"execute\":\"guest-nope\"}"),
	    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-nope has "
	    "not been found\"}}");
	same_str("request id comes back", call(&p, "{\"execute\":\"guest-ping\",\"id\":\"a1\"}"),
		 "{\"return\": {}, \"id\": \"a1\"}");
	r = call(&p, "{\"execute\":\"guest-ping\",}");
	ok(r && !strncmp(r, PARSE_ERR, strlen(PARSE_ERR)), "malformed JSON: GenericError");
	free(r);
	send_str(&p, "{\"execute\":\"guest-pi\xff{\"execute\":\"guest-ping\"}\n");
	same_str("0xFF resets the parser", reply(&p, 5000, NULL), "{\"return\": {}}");
	same_str(
	    "guest-get-osinfo answers as Windows Server 2008",
	    call(&p, "{\"execute\":\"guest-get-osinfo\"}"),
	    "{\"return\": {\"kernel-release\": \"6003\", \"kernel-version\": \"6.0\", \"machine\": "
	    "\"x86_64\", \"id\": \"mswindows\", \"name\": \"Microsoft Windows\", \"pretty-name\": "
	    "\"Windows Server (R) 2008 Enterprise\", \"version\": \"Microsoft Windows Server "
	    "2008\", \"version-id\": \"2008\", \"variant\": \"server\", \"variant-id\": "
	    "\"server\"}}");
	same_str("guest-get-host-name", call(&p, "{\"execute\":\"guest-get-host-name\"}"),
		 "{\"return\": {\"host-name\": \"W2K8-ESU3\"}}");
	r = call(&p, "{\"execute\":\"guest-info\"}");
	ok(r &&
	       strstr(
		   r,
		   "{\"name\": \"guest-exec\", \"enabled\": true, \"success-response\": true}") &&
	       strstr(r, "{\"name\": \"guest-shutdown\", \"enabled\": true, \"success-response\": "
			 "false}") &&
	       strstr(r, "{\"name\": \"guest-fsfreeze-freeze-list\", \"enabled\": false") &&
	       strstr(r, "\"version\": \"4.2.0\""),
	   "guest-info: Windows command list with enabled flags");
	free(r);
	r = call(&p, "{\"execute\":\"guest-get-time\"}");
	ok(r && strlen(r) > 20 && !strcmp(r + strlen(r) - 3, "00}"),
	   "guest-get-time in 100 ns steps");
	free(r);
	same_str("freeze-list is disabled on Windows",
		 call(&p, "{\"execute\":\"guest-fsfreeze-freeze-list\"}"),
		 "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
		 "guest-fsfreeze-freeze-list has been disabled for this instance\"}}");
	ok(stop(&p) == 0, "winqga exits 0 at EOF");

	start(&p, "w2k8r2-7601", NULL, NULL);
	r = call(&p, "{\"execute\":\"guest-get-osinfo\"}");
	ok(r && strstr(r, "\"kernel-release\": \"7601\", \"kernel-version\": \"6.1\"") &&
	       strstr(
		   r,
		   "\"version\": \"Microsoft Windows Server 2008 R2\", \"version-id\": \"2008r2\""),
	   "R2: 7601, 6.1, 2008r2");
	free(r);
	stop(&p);

	start(&p, "w2k8-old-agent", NULL, NULL);
	r = call(&p, "{\"execute\":\"guest-info\"}");
	ok(r && strstr(r, "\"version\": \"2.3.0\"") && !strstr(r, "guest-exec") &&
	       !strstr(r, "guest-get-osinfo") && strstr(r, "guest-fsfreeze-freeze"),
	   "old agent: no guest-exec, no guest-get-osinfo in guest-info");
	free(r);
	same_str(
	    "old agent: guest-get-osinfo not found", call(&p, "{\"execute\":\"guest-get-osinfo\"}"),
	    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-get-osinfo "
	    "has not been found\"}}");
	same_str(
	    "old agent: guest-exec not found",
	    call(&p, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"cmd.exe\"}}"),
	    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-exec has "
	    "not been found\"}}");
	stop(&p);
}

void test_registry_and_ver(void)
{
	struct peer p;
	struct result r;
	start(&p, "w2k8-6003-esu3", NULL, NULL);
	run(&p, &r, REG, "query", CURVER, "/v", "BuildLabEx", NULL);
	same("reg query /v BuildLabEx", (char *)r.out, r.olen,
	     "\r\n" CURVER_FULL "\r\n    BuildLabEx    REG_SZ    "
	     "6003.21481.amd64fre.vistasp2_ldr_escrow.220406-1606\r\n\r\n");
	ok(r.exited && r.code == 0 && !r.err, "reg query: exit 0, no err-data");
	result_free(&r);
	run(&p, &r, "reg.exe", "QUERY",
	    "hkey_local_machine\\software\\microsoft\\windows nt\\currentversion", "/v",
	    "currentbuild", NULL);
	same("reg.exe, any case: CurrentBuild", (char *)r.out, r.olen,
	     "\r\n" CURVER_FULL "\r\n    CurrentBuild    REG_SZ    6003\r\n\r\n");
	result_free(&r);
	run(&p, &r, "c:\\WINDOWS\\system32\\REG.EXE", "query", CURVER, "/v", "UBR", NULL);
	ok(r.code == 1 && !r.out, "missing value: exit 1, no out-data");
	same("missing value: ERROR line", (char *)r.err, r.elen,
	     "ERROR: The system was unable to find the specified registry key or value.\r\n");
	result_free(&r);
	run(&p, &r, REG, "query", CURVER, NULL);
	ok(r.olen > 200 &&
	       !memcmp(r.out, "\r\n" CURVER_FULL "\r\n    CurrentVersion    REG_SZ    6.0\r\n",
		       strlen(CURVER_FULL) + 41) &&
	       contains((char *)r.out, r.olen,
			"\r\n    CSDVersion    REG_SZ    Service Pack 2\r\n") &&
	       contains((char *)r.out, r.olen,
			"\r\n    EditionID    REG_SZ    ServerEnterprise\r\n") &&
	       contains((char *)r.out, r.olen,
			"\r\n    InstallDate    REG_DWORD    0x4fe199a8\r\n") &&
	       contains((char *)r.out, r.olen,
			"\r\n    RegisteredOrganization    REG_SZ    \r\n") &&
	       contains((char *)r.out, r.olen, "\r\n\r\n" CURVER_FULL "\\Accessibility\r\n"),
	   "reg query of the whole key: values, blank line, subkeys");
	result_free(&r);
	run(&p, &r, "cmd.exe", "/c", "ver", NULL);
	same("cmd.exe /c ver", (char *)r.out, r.olen,
	     "\r\nMicrosoft Windows [Version 6.0.6003]\r\n");
	result_free(&r);
	run(&p, &r, "C:\\Windows\\System32\\nope.exe", NULL);
	same("unknown program: CreateProcess error", r.error, r.error ? strlen(r.error) : 0,
	     NOT_FOUND_ERR);
	result_free(&r);
	run(&p, &r, "C:\\Windows\\reg.exe", "query", CURVER, NULL);
	ok(r.error != NULL, "reg.exe is not in C:\\Windows");
	result_free(&r);
	run(&p, &r, "cmd.exe", "/c", "foo", NULL);
	same("cmd /c unknown: not recognized", (char *)r.err, r.elen,
	     "'foo' is not recognized as an internal or external command,\r\noperable program or "
	     "batch file.\r\n");
	ok(r.code == 1, "cmd /c unknown: exit 1");
	result_free(&r);
	stop(&p);

	start(&p, "w2k8-6001-rtm", NULL, NULL);
	run(&p, &r, REG, "query", CURVER, "/v", "CSDVersion", NULL);
	ok(r.code == 1, "2008 RTM: no CSDVersion value");
	result_free(&r);
	stop(&p);
}

void test_wmic(void)
{
	struct peer p;
	struct result r;
	start(&p, "w2k8-6003-noesu", NULL, NULL);
	run(&p, &r, WMIC, "qfe", "get", "HotFixID", NULL);
	same("wmic qfe get HotFixID", (char *)r.out, r.olen,
	     "HotFixID   \r\r\nKB955430   \r\r\nKB4474419  \r\r\nKB4493730  \r\r\nKB4534303  "
	     "\r\r\n\r\r\n");
	result_free(&r);
	run(&p, &r, "wmic", "qfe", "get", "InstalledBy,HotFixID", NULL);
	ok(r.olen > 12 &&
	       !memcmp(r.out, "HotFixID   InstalledBy  \r\r\nKB955430   S-1-5-18     \r\r\n", 54),
	   "wmic columns sorted by name, padded to widest + 2");
	result_free(&r);
	run(&p, &r, WMIC, "datafile", "where", "name='C:\\\\Windows\\\\System32\\\\ntoskrnl.exe'",
	    "get", "Version", "/value", NULL);
	same("wmic datafile ntoskrnl Version /value", (char *)r.out, r.olen,
	     "\r\r\n\r\r\nVersion=6.0.6003.20705\r\r\n\r\r\n\r\r\n\r\r\n");
	result_free(&r);
	run(&p, &r, WMIC, "datafile", "where", "name='C:\\Windows\\System32\\ntoskrnl.exe'", "get",
	    "Version", NULL);
	ok(r.code == -2147217385 &&
	       contains((char *)r.err, r.elen, "Description = Invalid query\r\r\n"),
	   "single backslashes in WQL: Invalid query, exit code 0x80041017 (negative)");
	result_free(&r);
	run(&p, &r, WMIC, "path", "SoftwareLicensingProduct", "where", "ID='" ESU1 "'", "get",
	    "LicenseStatus", NULL);
	ok(r.code == 0 && !r.out, "no ESU licensing package: no instance, exit 0");
	same("No Instance(s) Available.", (char *)r.err, r.elen, "No Instance(s) Available.\r\r\n");
	result_free(&r);
	run(&p, &r, WMIC, "os", "get", "Version,BuildNumber", NULL);
	same("wmic os get Version,BuildNumber", (char *)r.out, r.olen,
	     "BuildNumber  Version   \r\r\n6003         6.0.6003  \r\r\n\r\r\n");
	result_free(&r);
	stop(&p);

	start(&p, "w2k8-6003-esu3", NULL, NULL);
	run(&p, &r, WMIC, "path", "SoftwareLicensingProduct", "where", "ID='" ESU3 "'", "get",
	    "LicenseStatus", NULL);
	same("ESU year 3 licensed: LicenseStatus table", (char *)r.out, r.olen,
	     "LicenseStatus  \r\r\n1              \r\r\n\r\r\n");
	result_free(&r);
	run(&p, &r, WMIC, "path", "SoftwareLicensingProduct", "where", "ID='" ESU1 "'", "get",
	    "LicenseStatus", "/value", NULL);
	same("ESU year 1: LicenseStatus /value", (char *)r.out, r.olen,
	     "\r\r\n\r\r\nLicenseStatus=1\r\r\n\r\r\n\r\r\n\r\r\n");
	result_free(&r);
	stop(&p);

	start(&p, "w2k8-6003-esu3", "esu-years=1", NULL);
	run(&p, &r, WMIC, "path", "SoftwareLicensingProduct", "where", "ID='" ESU3 "'", "get",
	    "LicenseStatus", NULL);
	same("ESU year 1 only: year 3 LicenseStatus 0", (char *)r.out, r.olen,
	     "LicenseStatus  \r\r\n0              \r\r\n\r\r\n");
	result_free(&r);
	stop(&p);
}

void test_licence_and_systeminfo(void)
{
	struct peer p;
	struct result r;
	start(&p, "w2k8-6003-esu3", NULL, NULL);
	run(&p, &r, CSCRIPT, "//nologo", SLMGR, "/dli", ESU3, NULL);
	same("slmgr /dli year 3: Licensed", (char *)r.out, r.olen,
	     "\r\nName: Windows(R), Server-ESU-Year3 add-on for 2008R2, 2008\r\nDescription: "
	     "Windows(R) Operating System, VOLUME_MAK channel\r\nPartial Product Key: QJ9PM\r\n"
	     "License Status: Licensed\r\n\r\n");
	ok(r.code == 0, "slmgr: exit 0");
	result_free(&r);
	run(&p, &r, "systeminfo.exe", NULL);
	ok(contains((char *)r.out, r.olen,
		    "\r\nOS Version:                6.0.6003 Service Pack 2 Build 6003\r\n") &&
	       contains((char *)r.out, r.olen, "\r\nSystem Type:               x64-based PC\r\n") &&
	       contains((char *)r.out, r.olen,
			"\r\n                           [01]: KB955430\r\n") &&
	       contains((char *)r.out, r.olen,
			"\r\nOS Name:                   Microsoftr Windows Serverr 2008 Enterprise "
			"\r\n"),
	   "systeminfo: labels padded to column 27, hotfix lines");
	result_free(&r);
	stop(&p);

	start(&p, "w2k8-6003-noesu", NULL, NULL);
	run(&p, &r, CSCRIPT, "//nologo", SLMGR, "/dli", ESU3, NULL);
	same("slmgr /dli without licensing package", (char *)r.out, r.olen,
	     "Error: product key not found.\r\n");
	ok(r.code == 0, "slmgr error: still exit 0");
	result_free(&r);
	run(&p, &r, CSCRIPT, SLMGR, "/dli", ESU3, NULL);
	ok(r.olen > 40 && !memcmp(r.out, "Microsoft (R) Windows Script Host Version 5.7\r\n", 47),
	   "cscript without //nologo: banner first");
	result_free(&r);
	stop(&p);
}

void test_exec_semantics(void)
{
	struct peer p;
	struct result r;
	char *s;
	start(&p, "w2k8-6003-esu3", "exec-ms=300", NULL);
	s = call(&p, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"cmd.exe\",\"arg\":[\"/"
		     "c\",\"ver\"],\"capture-output\":true}}");
	same_str("guest-exec returns a Windows-style pid", s, "{\"return\": {\"pid\": 1412}}");
	same_str("running: exited false",
		 call(&p, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":1412}}"),
		 "{\"return\": {\"exited\": false}}");
	usleep(350000);
	same_str("ended: exitcode and out-data",
		 call(&p, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":1412}}"),
		 "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": "
		 "\"DQpNaWNyb3NvZnQgV2luZG93cyBbVmVyc2lvbiA2LjAuNjAwM10NCg==\"}}");
	same_str(
	    "record gone after exited:true",
	    call(&p, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":1412}}"),
	    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter 'pid'\"}}");
	stop(&p);

	start(&p, "w2k8-6003-esu3", NULL, NULL);
	run(&p, &r, "/bin/sh", "-c", "printf abc; printf e >&2; exit 3", NULL);
	ok(r.exited && r.code == 3 && r.olen == 3 && !memcmp(r.out, "abc", 3) && r.elen == 1,
	   "escape hatch: /bin/sh really runs");
	result_free(&r);
	run(&p, &r, "/bin/true", NULL);
	ok(r.exited && r.code == 0 && !r.out && !r.err, "no output: no out-data / err-data");
	result_free(&r);
	stop(&p);
}

void test_freeze_and_misbehaviour(void)
{
	struct peer p;
	char *s;
	long long t0;
	start(&p, "w2k8-6003-esu3", NULL, NULL);
	same_str("freeze (no volumes here): 0", call(&p, "{\"execute\":\"guest-fsfreeze-freeze\"}"),
		 "{\"return\": 0}");
	same_str("status frozen", call(&p, "{\"execute\":\"guest-fsfreeze-status\"}"),
		 "{\"return\": \"frozen\"}");
	same_str(
	    "frozen: guest-exec disabled",
	    call(&p, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"cmd.exe\"}}"),
	    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-exec has "
	    "been disabled for this instance\"}}");
	same_str("thaw", call(&p, "{\"execute\":\"guest-fsfreeze-thaw\"}"), "{\"return\": 0}");
	same_str("status thawed", call(&p, "{\"execute\":\"guest-fsfreeze-status\"}"),
		 "{\"return\": \"thawed\"}");
	stop(&p);

	start(&p, "w2k8-hang-freeze", NULL, NULL);
	send_str(&p, "{\"execute\":\"guest-fsfreeze-freeze\"}\n");
	same_str("hang-freeze: the freeze is not answered, the next command is",
		 call(&p, "{\"execute\":\"guest-fsfreeze-status\"}"), "{\"return\": \"frozen\"}");
	same_str("hang-freeze: thaw still works", call(&p, "{\"execute\":\"guest-fsfreeze-thaw\"}"),
		 "{\"return\": 0}");
	stop(&p);

	start(&p, "w2k8-hang-freeze", "hang-ms=200", NULL);
	send_str(&p, "{\"execute\":\"guest-fsfreeze-freeze\"}\n");
	s = reply(&p, 2000, NULL);
	same_str("hang-ms: the freeze is answered late", s, "{\"return\": 0}");
	stop(&p);

	start(&p, "w2k8-silent-after-sync", NULL, NULL);
	same_str("silent-after-sync: sync answered",
		 call(&p, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":7}}"),
		 "{\"return\": 7}");
	send_str(&p, "{\"execute\":\"guest-ping\"}\n");
	s = reply(&p, 300, NULL);
	ok(s == NULL, "silent-after-sync: ping never answered");
	free(s);
	stop(&p);

	start(&p, "w2k8-garbage", NULL, NULL);
	same_str("garbage: sync answered",
		 call(&p, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":8}}"),
		 "{\"return\": 8}");
	s = call(&p, "{\"execute\":\"guest-ping\"}");
	ok(s && !json_parse(s, strlen(s), NULL), "garbage: ping answered with non-JSON bytes");
	free(s);
	stop(&p);

	start(&p, "w2k8-slow", "delay-ms=250", NULL);
	t0 = ms_now();
	same_str("slow: answered", call(&p, "{\"execute\":\"guest-ping\"}"), "{\"return\": {}}");
	ok(ms_now() - t0 >= 250, "slow: at least delay-ms late");
	stop(&p);
}

/* A TCP socket on 127.0.0.1, bound to a free port; listening when `listening`. */
static int tcp_socket(int listening, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (listening && listen(fd, 1) < 0) || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

void test_netstat(void)
{
	struct peer p;
	struct result r;
	char set[32], want[128];
	int lport = 0, sport = 0, cport = 0;
	int lfd = tcp_socket(1, &lport), sfd = tcp_socket(0, &sport), cfd = tcp_socket(0, &cport);
	ok(lfd >= 0 && sfd >= 0 && cfd >= 0, "netstat: test sockets");
	close(sfd); /* its port is free again: the identity's "service" takes it */
	close(cfd); /* nobody listens on cport */
	snprintf(set, sizeof(set), "listen=%d", sport);
	start(&p, "w2k8-6003-esu3", set, NULL);
	run(&p, &r, "C:\\Windows\\System32\\NETSTAT.EXE", "-an", NULL);
	ok(r.exited && r.code == 0 && !r.err, "netstat -an: exit 0, no err-data");
	static const char hdr[] = "\r\nActive Connections\r\n\r\n  Proto  Local Address          "
				  "Foreign Address        State\r\n";
	ok(r.olen > sizeof(hdr) && !memcmp(r.out, hdr, sizeof(hdr) - 1),
	   "netstat -an: Windows header, CRLF");
	snprintf(want, sizeof(want),
		 "\r\n  TCP    127.0.0.1:%-13d0.0.0.0:0              LISTENING\r\n", lport);
	ok(contains((char *)r.out, r.olen, want), "netstat -an: the test's real listener, padded");
	snprintf(want, sizeof(want),
		 "\r\n  TCP    0.0.0.0:%-15d0.0.0.0:0              LISTENING\r\n", sport);
	ok(contains((char *)r.out, r.olen, want), "netstat -an: the identity's listen port");
	snprintf(want, sizeof(want), ":%d ", cport);
	ok(!contains((char *)r.out, r.olen, want), "netstat -an: a closed port is not listed");
	result_free(&r);
	run(&p, &r, "netstat", "-n", NULL);
	ok(r.code == 0 && !contains((char *)r.out, r.olen, "LISTENING"),
	   "netstat -n: connections only, no listeners");
	result_free(&r);
	run(&p, &r, "netstat.exe", "-x", NULL);
	ok(r.code == 1 && contains((char *)r.out, r.olen, "NETSTAT [-a]"),
	   "netstat -x: usage, exit 1");
	result_free(&r);
	stop(&p);
	close(lfd);
}
