/* Unit tests: framing and request parsing (common/proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto.h"

static void test_partial_reads(void **state)
{
	ProtoFramer f;
	HfError err = {0};
	char *line = NULL;
	proto_framer_init(&f, 1024);
	const char *msg = "{\"v\":1,\"id\":1,\"method\":\"guests.list\"}\n";
	for (size_t i = 0; i < strlen(msg) - 1; i++) {
		assert_int_equal(proto_framer_feed(&f, msg + i, 1, &err), 0);
		assert_int_equal(proto_framer_next(&f, &line, &err), 0);
	}
	assert_int_equal(proto_framer_feed(&f, "\n", 1, &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), 1);
	assert_string_equal(line, "{\"v\":1,\"id\":1,\"method\":\"guests.list\"}");
	g_free(line);
	assert_int_equal(proto_framer_next(&f, &line, &err), 0);
	proto_framer_clear(&f);
}

static void test_several_frames_one_read(void **state)
{
	ProtoFramer f;
	HfError err = {0};
	char *line = NULL;
	proto_framer_init(&f, 1024);
	const char *two = "{\"a\":1}\n{\"b\":2}\r\n{\"c\"";
	assert_int_equal(proto_framer_feed(&f, two, strlen(two), &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), 1);
	assert_string_equal(line, "{\"a\":1}");
	g_free(line);
	assert_int_equal(proto_framer_next(&f, &line, &err), 1);
	assert_string_equal(line, "{\"b\":2}"); /* CR dropped */
	g_free(line);
	assert_int_equal(proto_framer_next(&f, &line, &err), 0);
	assert_int_equal(proto_framer_feed(&f, ":3}\n", 4, &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), 1);
	assert_string_equal(line, "{\"c\":3}");
	g_free(line);
	proto_framer_clear(&f);
}

static void test_oversized(void **state)
{
	ProtoFramer f;
	HfError err = {0};
	char *line = NULL;
	char big[200];
	memset(big, 'x', sizeof big);
	proto_framer_init(&f, 100);
	/* unterminated and over the limit: error at feed time */
	assert_int_equal(proto_framer_feed(&f, big, sizeof big, &err), -1);
	assert_string_equal(err.code, HF_ERR_PROTOCOL);
	proto_framer_clear(&f);
	/* terminated but over the limit: error at next() */
	error_clear(&err);
	proto_framer_init(&f, 100);
	big[150] = '\n';
	assert_int_equal(proto_framer_feed(&f, big, sizeof big, &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), -1);
	assert_string_equal(err.code, HF_ERR_PROTOCOL);
	proto_framer_clear(&f);
}

static void test_invalid_utf8(void **state)
{
	ProtoFramer f;
	HfError err = {0};
	char *line = NULL;
	proto_framer_init(&f, 100);
	assert_int_equal(proto_framer_feed(&f, "{\"a\":\"\xff\xfe\"}\n", 11, &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), -1);
	assert_string_equal(err.code, HF_ERR_PROTOCOL);
	proto_framer_clear(&f);
	/* an embedded NUL is not text either */
	error_clear(&err);
	proto_framer_init(&f, 100);
	assert_int_equal(proto_framer_feed(&f, "{\"a\":1}\0\n", 9, &err), 0);
	assert_int_equal(proto_framer_next(&f, &line, &err), -1);
	proto_framer_clear(&f);
}

static void expect_parse(const char *line, int rc, const char *code, double id)
{
	ProtoRequest r;
	HfError err = {0};
	assert_int_equal(proto_request_parse(line, &r, &err), rc);
	if (code)
		assert_string_equal(err.code, code);
	assert_true(r.id == id);
	proto_request_clear(&r);
}

static void test_request_parse(void **state)
{
	expect_parse("{\"v\":1,\"id\":7,\"method\":\"guests.list\",\"params\":{}}", 0, NULL, 7);
	expect_parse("not json", -1, HF_ERR_PROTOCOL, -1);
	expect_parse("[1,2]", -1, HF_ERR_PROTOCOL, -1);
	expect_parse("{\"v\":1,\"method\":\"x\"}", -1, HF_ERR_PROTOCOL, -1);
	expect_parse("{\"v\":1,\"id\":-3,\"method\":\"x\"}", -1, HF_ERR_PROTOCOL, -1);
	expect_parse("{\"v\":1,\"id\":1.5,\"method\":\"x\"}", -1, HF_ERR_PROTOCOL, -1);
	expect_parse("{\"v\":2,\"id\":3,\"method\":\"x\"}", -1, HF_ERR_INVALID_PARAMS, 3);
	expect_parse("{\"id\":3,\"method\":\"x\"}", -1, HF_ERR_INVALID_PARAMS, 3);
	expect_parse("{\"v\":1,\"id\":4,\"method\":5}", -1, HF_ERR_INVALID_PARAMS, 4);
	expect_parse("{\"v\":1,\"id\":4,\"method\":\"x\"} trailing", -1, HF_ERR_PROTOCOL, -1);
}

static void test_reply_build(void **state)
{
	HfError err = {0};
	error_set(&err, HF_ERR_NOT_FOUND, "guest 'x' not found");
	char *s = proto_reply_error(9, &err);
	assert_string_equal(s, "{\"id\":9,\"error\":{\"code\":\"not-found\",\"message\":\"guest "
			       "'x' not found\"}}\n");
	g_free(s);
	s = proto_reply_result(-1, cJSON_CreateTrue());
	assert_string_equal(s, "{\"id\":null,\"result\":true}\n");
	g_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_reads),  cmocka_unit_test(test_several_frames_one_read),
		cmocka_unit_test(test_oversized),      cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_request_parse),  cmocka_unit_test(test_reply_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
