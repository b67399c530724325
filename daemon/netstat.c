/* netstat.c - the listening TCP ports in Windows `netstat -an` output (netstat.h). */
#include "netstat.h"

#include <string.h>

static int by_port(gconstpointer a, gconstpointer b)
{
	return (int)*(const guint16 *)a - (int)*(const guint16 *)b;
}

/* The port after the last ':' of "1.2.3.4:80" or "[::1]:80"; -1 when there is none. */
static int addr_port(const char *a, gboolean *unspecified)
{
	const char *c = strrchr(a, ':');
	char *end = NULL;
	if (!c || !c[1])
		return -1;
	gint64 p = g_ascii_strtoll(c + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	*unspecified = !strncmp(a, "0.0.0.0:", 8) || !strncmp(a, "[::]:", 5);
	return (int)p;
}

/* One row "TCP LOCAL FOREIGN STATE": its local port when it is a listening TCP socket. */
static int row_listening(char **w)
{
	gboolean lu = FALSE, fu = FALSE;
	guint n = g_strv_length(w);
	if (n < 3 || g_ascii_strcasecmp(w[0], "TCP"))
		return -1;
	int lp = addr_port(w[1], &lu), fp = addr_port(w[2], &fu);
	if (lp < 0 || fp < 0)
		return -1;
	if ((n >= 4 && !strcmp(w[3], "LISTENING")) || (fu && fp == 0))
		return lp;
	return -1;
}

int netstat_listening(const char *text, size_t len, GArray **ports, HfError *err)
{
	g_autofree char *t = g_strndup(text ? text : "", len);
	g_auto(GStrv) lines = g_strsplit(t, "\n", -1);
	g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(guint16));
	gboolean header = FALSE;
	for (char **l = lines; *l; l++) {
		g_strdelimit(*l, "\r\t", ' ');
		g_auto(GStrv) w = g_strsplit_set(g_strstrip(*l), " ", -1);
		/* g_strsplit_set keeps empty words between runs of spaces: drop them */
		guint k = 0;
		for (guint i = 0; w[i]; i++) {
			if (*w[i])
				w[k++] = w[i];
			else
				g_free(w[i]);
		}
		w[k] = NULL;
		if (k && !strcmp(w[0], "Proto"))
			header = TRUE;
		int p = header ? row_listening(w) : -1;
		if (p >= 0 && !netstat_has(a, (guint)p)) {
			guint16 v = (guint16)p;
			g_array_append_val(a, v);
		}
	}
	if (!header) {
		g_autofree char *start = g_strndup(text ? text : "", MIN(len, 120));
		return error_set(err, HF_ERR_FAILED,
				 "the guest's netstat -an printed no connection table (no "
				 "\"Proto\" header): %s",
				 g_strstrip(g_strdelimit(start, "\r\n", ' ')));
	}
	g_array_sort(a, by_port);
	*ports = g_steal_pointer(&a);
	return 0;
}

gboolean netstat_has(const GArray *ports, guint port)
{
	for (guint i = 0; ports && i < ports->len; i++)
		if (g_array_index(ports, guint16, i) == port)
			return TRUE;
	return FALSE;
}
