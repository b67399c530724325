/* json.h - a small bounded JSON reader, an output buffer and base64 for winqga.
 * winqga is linked statically into the stand-in guest and Debian ships no static cJSON,
 * so it carries this reader: it keeps numbers as their source text (guest-sync ids are
 * 64-bit), limits nesting, and rejects anything that is not one well-formed value. */
#ifndef WINQGA_JSON_H
#define WINQGA_JSON_H

#include <stdarg.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	char *key;   /* member name when the value sits in an object */
	char *str;   /* J_STR: decoded bytes (NUL-terminated); J_NUM: source text */
	size_t len;  /* length of str */
	int boolean; /* J_BOOL */
	struct jval *child, *next;
};

/* Parses exactly one value from s[0..n). Returns NULL and sets *err on failure. */
struct jval *json_parse(const char *s, size_t n, const char **err);
void json_free(struct jval *v);
const struct jval *json_get(const struct jval *obj, const char *key);
const char *json_get_str(const struct jval *obj, const char *key);
/* 1 and *out set when key holds an integer, 0 when absent, -1 when not an integer */
int json_get_int(const struct jval *obj, const char *key, long long *out);

struct sbuf {
	char *p;
	size_t len, cap;
};

void sb_add(struct sbuf *b, const void *data, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* appends s as a quoted JSON string */
void sb_json_str(struct sbuf *b, const char *s, size_t n);
void sb_free(struct sbuf *b);

/* base64 (RFC 4648, padded): encode appends to b; decode returns malloc'd bytes or NULL */
void b64_encode(struct sbuf *b, const unsigned char *d, size_t n);
unsigned char *b64_decode(const char *s, size_t n, size_t *outlen);

#endif
