/* proto.c - framing and (de)serialization of the JSON-lines protocol. */
#include "proto.h"

#include <string.h>

#include "methods.h"

void proto_framer_init(ProtoFramer *f, size_t limit)
{
	f->buf = g_byte_array_new();
	f->limit = limit;
	f->scan = 0;
}

void proto_framer_clear(ProtoFramer *f)
{
	if (f->buf)
		g_byte_array_unref(f->buf);
	f->buf = NULL;
}

int proto_framer_feed(ProtoFramer *f, const void *data, size_t len, HfError *err)
{
	g_byte_array_append(f->buf, data, (guint)len);
	/* Only an unterminated tail can overflow; complete frames are checked in next(). */
	const guint8 *nl = memchr(f->buf->data + f->scan, '\n', f->buf->len - f->scan);
	if (!nl) {
		f->scan = f->buf->len;
		if (f->buf->len > f->limit)
			return error_set(err, HF_ERR_PROTOCOL,
					 "frame longer than %zu bytes without a newline", f->limit);
	}
	return 0;
}

int proto_framer_next(ProtoFramer *f, char **line, HfError *err)
{
	const guint8 *start = f->buf->data;
	const guint8 *nl = f->buf->len ? memchr(start, '\n', f->buf->len) : NULL;
	size_t n;

	*line = NULL;
	if (!nl) {
		f->scan = f->buf->len;
		return 0;
	}
	n = (size_t)(nl - start);
	if (n > f->limit)
		return error_set(err, HF_ERR_PROTOCOL, "frame of %zu bytes is over the limit of %zu",
				 n, f->limit);
	size_t body = n && start[n - 1] == '\r' ? n - 1 : n;
	if (memchr(start, '\0', body) || !g_utf8_validate((const char *)start, (gssize)body, NULL))
		return error_set(err, HF_ERR_PROTOCOL, "frame is not valid UTF-8 text");
	*line = g_strndup((const char *)start, body);
	g_byte_array_remove_range(f->buf, 0, (guint)(n + 1));
	f->scan = 0;
	return 1;
}

void proto_request_clear(ProtoRequest *req)
{
	cJSON_Delete(req->root);
	memset(req, 0, sizeof *req);
}

int proto_request_parse(const char *line, ProtoRequest *req, HfError *err)
{
	cJSON *v, *id, *method;

	memset(req, 0, sizeof *req);
	req->id = -1;
	req->root = cJSON_ParseWithOpts(line, NULL, 1);
	if (!req->root || !cJSON_IsObject(req->root))
		return error_set(err, HF_ERR_PROTOCOL, "request is not a JSON object");
	id = cJSON_GetObjectItemCaseSensitive(req->root, "id");
	if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 9007199254740991.0 ||
	    id->valuedouble != (double)(long long)id->valuedouble)
		return error_set(err, HF_ERR_PROTOCOL,
				 "request has no \"id\" (a non-negative integer)");
	req->id = id->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(req->root, "v");
	if (!cJSON_IsNumber(v) || v->valuedouble != HF_PROTOCOL_VERSION)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "unsupported protocol version (this daemon speaks \"v\":%d)",
				 HF_PROTOCOL_VERSION);
	method = cJSON_GetObjectItemCaseSensitive(req->root, "method");
	if (!cJSON_IsString(method))
		return error_set(err, HF_ERR_INVALID_PARAMS, "request has no \"method\" string");
	req->method = method->valuestring;
	req->params = cJSON_GetObjectItemCaseSensitive(req->root, "params");
	if (cJSON_IsNull(req->params))
		req->params = NULL;
	return 0;
}

static char *frame(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	char *out = g_strconcat(s, "\n", NULL);
	cJSON_free(s);
	cJSON_Delete(o);
	return out;
}

char *proto_request_build(double id, const char *method, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "v", HF_PROTOCOL_VERSION);
	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddItemToObject(o, "params", params ? params : cJSON_CreateObject());
	return frame(o);
}

static char *reply(double id, const char *key, cJSON *payload)
{
	cJSON *o = cJSON_CreateObject();
	if (id < 0)
		cJSON_AddNullToObject(o, "id");
	else
		cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddItemToObject(o, key, payload ? payload : cJSON_CreateNull());
	return frame(o);
}

char *proto_reply_result(double id, cJSON *result)
{
	return reply(id, "result", result);
}

char *proto_event(double id, cJSON *event)
{
	return reply(id, "event", event);
}

char *proto_reply_error(double id, const HfError *err)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : HF_ERR_INTERNAL);
	cJSON_AddStringToObject(e, "message", err->message);
	return reply(id, "error", e);
}
