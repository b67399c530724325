/* json.c - bounded JSON reader, output buffer and base64 (see json.h) */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

struct parser {
	const char *s, *end;
	const char *err;
	int depth;
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);
	if (!p)
		abort();
	return p;
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct sbuf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_add(b, u, n);
}

static int parse_u4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->end - p->s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)p->s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	p->s += 4;
	*out = v;
	return 0;
}

/* at the opening quote; returns malloc'd decoded string */
static char *parse_string(struct parser *p, size_t *len)
{
	struct sbuf b = {0};
	p->s++;
	while (p->s < p->end && *p->s != '"') {
		unsigned char c = (unsigned char)*p->s;
		if (c < 0x20) {
			p->err = "control character in string";
			goto fail;
		}
		if (c != '\\') {
			sb_add(&b, p->s++, 1);
			continue;
		}
		if (++p->s >= p->end)
			break;
		char e = *p->s++;
		unsigned cp;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			sb_add(&b, &e, 1);
			break;
		case 'b':
			sb_add(&b, "\b", 1);
			break;
		case 'f':
			sb_add(&b, "\f", 1);
			break;
		case 'n':
			sb_add(&b, "\n", 1);
			break;
		case 'r':
			sb_add(&b, "\r", 1);
			break;
		case 't':
			sb_add(&b, "\t", 1);
			break;
		case 'u':
			if (parse_u4(p, &cp) < 0) {
				p->err = "bad \\u escape";
				goto fail;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && p->end - p->s >= 6 && p->s[0] == '\\' &&
			    p->s[1] == 'u') {
				unsigned lo;
				p->s += 2;
				if (parse_u4(p, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					p->err = "bad surrogate pair";
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(&b, cp);
			break;
		default:
			p->err = "bad escape";
			goto fail;
		}
	}
	if (p->s >= p->end) {
		p->err = "unterminated string";
		goto fail;
	}
	p->s++;
	sb_add(&b, "", 1); /* NUL; not counted */
	*len = b.len - 1;
	return b.p;
fail:
	sb_free(&b);
	return NULL;
}

static struct jval *parse_value(struct parser *p);

static int parse_members(struct parser *p, struct jval *v, int obj)
{
	struct jval **tail = &v->child;
	char close = obj ? '}' : ']';
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		skip_ws(p);
		if (obj) {
			if (p->s >= p->end || *p->s != '"') {
				p->err = "expected member name";
				return -1;
			}
			if (!(key = parse_string(p, &klen)))
				return -1;
			skip_ws(p);
			if (p->s >= p->end || *p->s != ':') {
				free(key);
				p->err = "expected ':'";
				return -1;
			}
			p->s++;
		}
		struct jval *c = parse_value(p);
		if (!c) {
			free(key);
			return -1;
		}
		c->key = key;
		*tail = c;
		tail = &c->next;
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			return 0;
		}
		p->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
		return -1;
	}
}

static struct jval *parse_value(struct parser *p)
{
	struct jval *v;
	skip_ws(p);
	if (p->s >= p->end) {
		p->err = "unexpected end of input";
		return NULL;
	}
	v = xcalloc(1, sizeof(*v));
	char c = *p->s;
	if (c == '{' || c == '[') {
		if (++p->depth > JSON_MAX_DEPTH) {
			p->err = "nesting too deep";
			goto fail;
		}
		v->type = c == '{' ? J_OBJ : J_ARR;
		if (parse_members(p, v, c == '{') < 0)
			goto fail;
		p->depth--;
	} else if (c == '"') {
		v->type = J_STR;
		if (!(v->str = parse_string(p, &v->len)))
			goto fail;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		const char *st = p->s;
		if (*p->s == '-')
			p->s++;
		while (p->s < p->end && strchr("0123456789.eE+-", *p->s))
			p->s++;
		v->type = J_NUM;
		v->len = (size_t)(p->s - st);
		v->str = xcalloc(1, v->len + 1);
		memcpy(v->str, st, v->len);
		char *e;
		strtod(v->str, &e);
		if (*e || v->len == 0 || (v->len == 1 && *st == '-')) {
			p->err = "bad number";
			goto fail;
		}
	} else if (p->end - p->s >= 4 && !memcmp(p->s, "true", 4)) {
		v->type = J_BOOL;
		v->boolean = 1;
		p->s += 4;
	} else if (p->end - p->s >= 5 && !memcmp(p->s, "false", 5)) {
		v->type = J_BOOL;
		p->s += 5;
	} else if (p->end - p->s >= 4 && !memcmp(p->s, "null", 4)) {
		v->type = J_NULL;
		p->s += 4;
	} else {
		p->err = "invalid token";
		goto fail;
	}
	return v;
fail:
	json_free(v);
	return NULL;
}

struct jval *json_parse(const char *s, size_t n, const char **err)
{
	struct parser p = {.s = s, .end = s + n};
	struct jval *v = parse_value(&p);
	if (v) {
		skip_ws(&p);
		if (p.s != p.end) {
			p.err = "trailing characters";
			json_free(v);
			v = NULL;
		}
	}
	if (!v && err)
		*err = p.err ? p.err : "invalid JSON";
	return v;
}

void json_free(struct jval *v)
{
	while (v) {
		struct jval *next = v->next;
		json_free(v->child);
		free(v->key);
		free(v->str);
		free(v);
		v = next;
	}
}

const struct jval *json_get(const struct jval *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const struct jval *c = obj->child; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

const char *json_get_str(const struct jval *obj, const char *key)
{
	const struct jval *v = json_get(obj, key);
	return v && v->type == J_STR ? v->str : NULL;
}

int json_get_int(const struct jval *obj, const char *key, long long *out)
{
	const struct jval *v = json_get(obj, key);
	char *e;
	if (!v)
		return 0;
	if (v->type != J_NUM)
		return -1;
	*out = strtoll(v->str, &e, 10);
	return *e ? -1 : 1;
}

static void sb_reserve(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			abort();
		b->p = np;
		b->cap = cap;
	}
}

void sb_add(struct sbuf *b, const void *data, size_t n)
{
	sb_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	if (!fmt) /* also keeps GCC 12 + UBSan from warning "null format string" below */
		return;
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_reserve(b, (size_t)n);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

void sb_json_str(struct sbuf *b, const char *s, size_t n)
{
	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			sb_add(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_add(b, &s[i], 1);
		}
	}
	sb_add(b, "\"", 1);
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static const char b64t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(struct sbuf *b, const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		char q[4] = {b64t[v >> 18 & 63], b64t[v >> 12 & 63],
			     i + 1 < n ? b64t[v >> 6 & 63] : '=', i + 2 < n ? b64t[v & 63] : '='};
		sb_add(b, q, 4);
	}
}

unsigned char *b64_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *o = malloc(n / 4 * 3 + 3);
	size_t k = 0;
	unsigned v = 0;
	int bits = 0, pad = 0;
	if (!o)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *q;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		if (pad || !(q = strchr(b64t, s[i])) || !s[i]) {
			free(o);
			return NULL;
		}
		v = v << 6 | (unsigned)(q - b64t);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	*outlen = k;
	return o;
}
