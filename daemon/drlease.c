/* drlease.c - restore points in use (drlease.h): a counted set of "GDIR\nPOINT" keys. */
#include "drlease.h"

#include <glib.h>
#include <string.h>

static GMutex lock;
static GHashTable *held; /* "GDIR\nPOINT" -> count (GPOINTER_TO_UINT) */

static char *key(const char *gdir, const char *point)
{
	return g_strconcat(gdir, "\n", point, NULL);
}

void drlease_take(const char *gdir, const char *point)
{
	g_mutex_lock(&lock);
	if (!held)
		held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *k = key(gdir, point);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(held, k));
	g_hash_table_insert(held, k, GUINT_TO_POINTER(n + 1));
	g_mutex_unlock(&lock);
}

void drlease_release(const char *gdir, const char *point)
{
	g_autofree char *k = key(gdir, point);
	g_mutex_lock(&lock);
	guint n = held ? GPOINTER_TO_UINT(g_hash_table_lookup(held, k)) : 0;
	if (n > 1)
		g_hash_table_insert(held, g_strdup(k), GUINT_TO_POINTER(n - 1));
	else if (n == 1)
		g_hash_table_remove(held, k);
	if (held && !g_hash_table_size(held))
		g_clear_pointer(&held, g_hash_table_unref);
	g_mutex_unlock(&lock);
}

bool drlease_held(const char *gdir, const char *point)
{
	g_autofree char *k = key(gdir, point);
	g_mutex_lock(&lock);
	bool r = held && g_hash_table_contains(held, k);
	g_mutex_unlock(&lock);
	return r;
}

char **drlease_points(const char *gdir)
{
	GStrvBuilder *b = g_strv_builder_new();
	size_t n = strlen(gdir);
	g_mutex_lock(&lock);
	if (held) {
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, held);
		while (g_hash_table_iter_next(&it, &k, NULL))
			if (!strncmp(k, gdir, n) && ((char *)k)[n] == '\n')
				g_strv_builder_add(b, (char *)k + n + 1);
	}
	g_mutex_unlock(&lock);
	char **r = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return r;
}
