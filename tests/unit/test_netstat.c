/* test_netstat.c - the listening TCP ports in Windows netstat -an output (daemon/netstat.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/netstat.h"

/* What Windows Server 2008 SP2 prints through a pipe (CRLF), IPv4, IPv6, UDP. */
static const char W2K8[] = "\r\nActive Connections\r\n\r\n"
			   "  Proto  Local Address          Foreign Address        State\r\n"
			   "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\r\n"
			   "  TCP    0.0.0.0:3389           0.0.0.0:0              LISTENING\r\n"
			   "  TCP    10.0.0.5:139           0.0.0.0:0              LISTENING\r\n"
			   "  TCP    10.0.0.5:49158         10.0.0.1:445           ESTABLISHED\r\n"
			   "  TCP    10.0.0.5:49159         10.0.0.1:80            TIME_WAIT\r\n"
			   "  TCP    [::]:445               [::]:0                 LISTENING\r\n"
			   "  TCP    [::1]:3389             [::]:0                 LISTENING\r\n"
			   "  TCP    [fe80::1%11]:5985      [::]:0                 LISTENING\r\n"
			   "  UDP    0.0.0.0:123            *:*                    \r\n"
			   "  UDP    [::]:500               *:*                    \r\n";

static GArray *ports_of(const char *text)
{
	GArray *a = NULL;
	HfError err = {0};
	assert_int_equal(netstat_listening(text, strlen(text), &a, &err), 0);
	return a;
}

static void listening_v4_v6_sorted_unique(void **state)
{
	g_autoptr(GArray) a = ports_of(W2K8);
	static const guint16 want[] = {135, 139, 445, 3389, 5985};
	assert_int_equal(a->len, G_N_ELEMENTS(want));
	for (guint i = 0; i < a->len; i++)
		assert_int_equal(g_array_index(a, guint16, i), want[i]);
	assert_true(netstat_has(a, 3389));
	assert_false(netstat_has(a, 49158)); /* a connection, not a listener */
	assert_false(netstat_has(a, 80));    /* the foreign side of a connection */
	assert_false(netstat_has(a, 123));   /* UDP */
	assert_false(netstat_has(a, 500));
}

/* German Windows: localised header and state; the addresses say it is listening. */
static void localised_state(void **state)
{
	g_autoptr(GArray) a =
	    ports_of("\r\nAktive Verbindungen\r\n\r\n"
		     "  Proto  Lokale Adresse         Remoteadresse          Status\r\n"
		     "  TCP    0.0.0.0:389            0.0.0.0:0              ABH\x99REN\r\n"
		     "  TCP    192.168.1.2:50000      192.168.1.3:389        HERGESTELLT\r\n");
	assert_int_equal(a->len, 1);
	assert_int_equal(g_array_index(a, guint16, 0), 389);
}

/* LF only, tabs: still a table. An empty table: no ports, not an error. */
static void lf_tabs_and_empty(void **state)
{
	g_autoptr(GArray) a = ports_of("Proto\tLocal\tForeign\tState\nTCP\t0.0.0.0:80\t0.0.0.0:0\t"
				       "LISTENING\n");
	assert_int_equal(a->len, 1);
	g_autoptr(GArray) e = ports_of("\r\nActive Connections\r\n\r\n  Proto  Local Address  "
				       "Foreign Address  State\r\n");
	assert_int_equal(e->len, 0);
}

/* Not netstat output: an error quoting what came instead. Malformed rows are skipped. */
static void not_netstat(void **state)
{
	GArray *a = NULL;
	HfError err = {0};
	const char *t = "'netstat' is not recognized as an internal or external command,\r\n";
	assert_int_equal(netstat_listening(t, strlen(t), &a, &err), -1);
	assert_null(a);
	assert_non_null(strstr(err.message, "is not recognized"));
	assert_int_equal(netstat_listening(NULL, 0, &a, &err), -1);
	g_autoptr(GArray) b = ports_of("  Proto  Local Address\r\n  TCP    0.0.0.0\r\n"
				       "  TCP    0.0.0.0:99999      0.0.0.0:0    LISTENING\r\n"
				       "  TCP    0.0.0.0:x          0.0.0.0:0    LISTENING\r\n"
				       "  TCP    0.0.0.0:7          0.0.0.0:0    LISTENING\r\n");
	assert_int_equal(b->len, 1);
	assert_int_equal(g_array_index(b, guint16, 0), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(listening_v4_v6_sorted_unique),
	    cmocka_unit_test(localised_state),
	    cmocka_unit_test(lf_tabs_and_empty),
	    cmocka_unit_test(not_netstat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
