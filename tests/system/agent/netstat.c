/* netstat.c - NETSTAT.EXE of Windows Server 2008 as printed through a pipe (CRLF), built from
 * the stand-in's REAL sockets (/proc/net/tcp, tcp6, udp, udp6), so a listener that really runs
 * in the stand-in shows up and a port nobody listens on does not:
 *
 *   \r\nActive Connections\r\n\r\n
 *     Proto  Local Address          Foreign Address        State\r\n
 *     TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\r\n
 *     TCP    [::]:445               [::]:0                 LISTENING\r\n
 *     UDP    0.0.0.0:123            *:*                    \r\n
 *
 * Options: -a (listening sockets too; without it only connections), -n (numeric; this stand-in
 * is always numeric: it has no name service), -o (a PID column, always 4 = System here), and
 * -p PROTO (TCP, UDP, TCPv6, UDPv6). Anything else prints the usage text, exit code 1. */
#include "winprog.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TCP_STATES[] = {"UNKNOWN",    "ESTABLISHED", "SYN_SENT",  "SYN_RECEIVED",
					 "FIN_WAIT_1", "FIN_WAIT_2",  "TIME_WAIT", "CLOSED",
					 "CLOSE_WAIT", "LAST_ACK",    "LISTENING", "CLOSING"};
#define TCP_LISTEN 0x0A
#define UDP_TABLE 0x100

struct nsopt {
	int all, pid;
	const char *proto; /* NULL: every protocol */
};

/* "0100007F:0016" (IPv4, host byte order) or 32 hex digits (IPv6, four host-order words) */
static int addr_text(const char *hex, int v6, char *out, size_t len)
{
	unsigned port;
	char a[INET6_ADDRSTRLEN];
	const char *colon = strchr(hex, ':');
	if (!colon || sscanf(colon + 1, "%x", &port) != 1)
		return -1;
	if (!v6) {
		struct in_addr in;
		if (colon - hex != 8 || sscanf(hex, "%8x", &in.s_addr) != 1)
			return -1;
		inet_ntop(AF_INET, &in, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, port);
		return 0;
	}
	struct in6_addr in6;
	if (colon - hex != 32)
		return -1;
	for (int i = 0; i < 4; i++) {
		uint32_t w;
		if (sscanf(hex + 8 * i, "%8x", &w) != 1)
			return -1;
		memcpy(&in6.s6_addr[4 * i], &w, 4);
	}
	inet_ntop(AF_INET6, &in6, a, sizeof(a));
	snprintf(out, len, "[%s]:%u", a, port);
	return 0;
}

/* Rows of one /proc/net table; listening (or, for UDP, every) socket only with -a. */
static void table(const char *path, const char *proto, int v6, int udp, const struct nsopt *o,
		  struct sbuf *out)
{
	char line[512];
	FILE *f;
	if (o->proto && strcasecmp(o->proto, proto))
		return;
	if (!(f = fopen(path, "r")))
		return;			     /* no IPv6 in this kernel: nothing to list */
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char la[80], ra[80], l[64], r[64];
		unsigned st;
		if (sscanf(line, " %*[0-9]: %79s %79s %x", la, ra, &st) != 3 ||
		    addr_text(la, v6, l, sizeof(l)) < 0 || addr_text(ra, v6, r, sizeof(r)) < 0)
			continue;
		if ((udp || st == TCP_LISTEN) && !o->all)
			continue;
		const char *state = udp ? ""
				    : st < sizeof(TCP_STATES) / sizeof(TCP_STATES[0])
					? TCP_STATES[st]
					: "UNKNOWN";
		if (o->pid)
			sb_printf(out, "  %-7s%-23s%-23s%-16s4\r\n", udp ? "UDP" : "TCP", l,
				  udp ? "*:*" : r, state);
		else
			sb_printf(out, "  %-7s%-23s%-23s%s\r\n", udp ? "UDP" : "TCP", l,
				  udp ? "*:*" : r, state);
	}
	fclose(f);
}

static int usage(struct winprog_result *r)
{
	sb_puts(
	    &r->out,
	    "\r\nDisplays protocol statistics and current TCP/IP network connections.\r\n\r\n"
	    "NETSTAT [-a] [-b] [-e] [-f] [-n] [-o] [-p proto] [-r] [-s] [-t] [interval]\r\n\r\n");
	return r->exitcode = 1;
}

void run_netstat(char *const *args, int nargs, struct winprog_result *r)
{
	struct nsopt o = {0};
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];
		if ((a[0] != '-' && a[0] != '/') || !a[1]) {
			usage(r);
			return;
		}
		for (const char *c = a + 1; *c; c++) {
			switch (*c) {
			case 'a':
			case 'A':
				o.all = 1;
				break;
			case 'n':
			case 'N':
				break;
			case 'o':
			case 'O':
				o.pid = 1;
				break;
			case 'p':
			case 'P':
				if (c[1] || i + 1 >= nargs) {
					usage(r);
					return;
				}
				o.proto = args[++i];
				break;
			default:
				usage(r);
				return;
			}
		}
	}
	sb_printf(&r->out, "\r\nActive Connections\r\n\r\n  %-7s%-23s%-23s%s%s\r\n", "Proto",
		  "Local Address", "Foreign Address", o.pid ? "State           " : "State",
		  o.pid ? "PID" : "");
	table("/proc/net/tcp", "TCP", 0, 0, &o, &r->out);
	table("/proc/net/tcp6", "TCPv6", 1, 0, &o, &r->out);
	table("/proc/net/udp", "UDP", 0, 1, &o, &r->out);
	table("/proc/net/udp6", "UDPv6", 1, 1, &o, &r->out);
	r->exitcode = 0;
}
