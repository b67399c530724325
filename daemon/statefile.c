/* statefile.c - atomic state files. */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

#include "log.h"

#define STATEFILE_MAX (256 * 1024 * 1024)

int statefile_mkdirs(const char *dir, HfError *err)
{
	if (g_mkdir_with_parents(dir, 0750) < 0)
		return error_set(err, errno == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot create state directory %s: %s", dir, g_strerror(errno));
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int statefile_write(const char *path, const char *data, size_t len, HfError *err)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strdup_printf("%s.tmp.%d", path, (int)getpid());
	int fd, dfd, e;

	if (statefile_mkdirs(dir, err) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto fail;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	e = errno;
	unlink(tmp);
	return error_set(err, e == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
			 "cannot write state file %s: %s%s", path, g_strerror(e),
			 e == ENOSPC ? " (free space on the state directory's filesystem)" : "");
}

int statefile_write_json(const char *path, const cJSON *doc, HfError *err)
{
	char *s = cJSON_Print(doc);
	int r = statefile_write(path, s, strlen(s), err);
	cJSON_free(s);
	return r;
}

int statefile_read_json(const char *path, cJSON **out, HfError *err)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) gerr = NULL;
	gsize len;

	*out = NULL;
	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return 0;
		return error_set(err, HF_ERR_FAILED, "cannot read state file %s: %s", path,
				 gerr->message);
	}
	if (len > STATEFILE_MAX || !(*out = cJSON_ParseWithLength(text, len)))
		return error_set(err, HF_ERR_FAILED,
				 "state file %s is damaged (not JSON); move it aside to start "
				 "fresh",
				 path);
	return 0;
}

/* ---- StateWriter ---- */

struct StateWriter {
	char *path, *category, *what;
	GMutex lock;
	GCond cond;
	char *pending; /* newest text not yet being written */
	bool busy;     /* a write in flight */
	bool stop;
	GThread *thread;
};

static gpointer writer_main(gpointer data)
{
	StateWriter *w = data;
	g_mutex_lock(&w->lock);
	for (;;) {
		while (!w->pending && !w->stop)
			g_cond_wait(&w->cond, &w->lock);
		if (!w->pending)
			break; /* stop, nothing left */
		char *text = w->pending;
		w->pending = NULL;
		w->busy = true;
		g_mutex_unlock(&w->lock);
		HfError err = {0};
		if (statefile_write(w->path, text, strlen(text), &err) < 0)
			hf_log(w->category, LOG_LVL_WARNING, "%s not saved: %s", w->what,
			       err.message);
		cJSON_free(text);
		g_mutex_lock(&w->lock);
		w->busy = false;
		g_cond_broadcast(&w->cond);
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

StateWriter *statewriter_new(const char *path, const char *category, const char *what)
{
	StateWriter *w = g_new0(StateWriter, 1);
	w->path = g_strdup(path);
	w->category = g_strdup(category);
	w->what = g_strdup(what);
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->thread = g_thread_new("hf-statefile", writer_main, w);
	return w;
}

void statewriter_put_json(StateWriter *w, const cJSON *doc)
{
	char *text = cJSON_Print(doc);
	g_mutex_lock(&w->lock);
	if (w->pending)
		cJSON_free(w->pending);
	w->pending = text;
	g_cond_broadcast(&w->cond);
	g_mutex_unlock(&w->lock);
}

void statewriter_sync(StateWriter *w)
{
	g_mutex_lock(&w->lock);
	while (w->pending || w->busy)
		g_cond_wait(&w->cond, &w->lock);
	g_mutex_unlock(&w->lock);
}

void statewriter_free(StateWriter *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_broadcast(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread); /* writes what is pending first */
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	g_free(w->path);
	g_free(w->category);
	g_free(w->what);
	g_free(w);
}
