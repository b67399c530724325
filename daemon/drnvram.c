/* drnvram.c - the NVRAM of a guest captured into its restore point (drnvram.h). */
#include "drnvram.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include "drstore.h"
#include "drxml.h"

#define NVRAM_FILE "nvram.fd"

int drnvram_capture(const char *partial, cJSON *m, HfError *err)
{
	g_autofree char *src =
	    drxml_nvram(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml")));
	if (!src)
		return 0;
	cJSON *nv = cJSON_AddObjectToObject(m, "nvram");
	cJSON_AddStringToObject(nv, "source", src);
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) ge = NULL;
	if (!g_file_get_contents(src, &data, &len, &ge)) {
		cJSON_AddNullToObject(nv, "file");
		cJSON_AddStringToObject(nv, "note", ge->message);
		return 0;
	}
	g_autofree char *to = g_build_filename(partial, NVRAM_FILE, NULL);
	char hex[65] = "";
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	gsize off = 0;
	while (fd >= 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (gsize)n;
	}
	int e = off == len && fd >= 0 && fsync(fd) == 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || e)
		return error_set(err, e == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot write the NVRAM copy %s: %s", to,
				 g_strerror(e ? e : errno));
	if (drstore_sha256(to, hex, err) < 0)
		return -1;
	cJSON_AddStringToObject(nv, "file", NVRAM_FILE);
	cJSON_AddNumberToObject(nv, "size", (double)len);
	cJSON_AddStringToObject(nv, "sha256", hex);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "name", NVRAM_FILE);
	cJSON_AddNumberToObject(f, "size", (double)len);
	cJSON_AddStringToObject(f, "sha256", hex);
	cJSON_AddItemToArray(cJSON_GetObjectItem(m, "files"), f);
	return 0;
}
