/* Unit tests: the method table and parameter validation (common/methods.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "methods.h"

static int validate(const char *method, const char *params_json, char *code_out)
{
	HfError err = {0};
	const HfMethod *m = methods_find(method);
	assert_non_null(m);
	cJSON *p = params_json ? cJSON_Parse(params_json) : NULL;
	int rc = methods_validate(m, p, &err);
	cJSON_Delete(p);
	if (code_out)
		strcpy(code_out, err.code);
	return rc;
}

static void test_table_consistent(void **state)
{
	for (size_t i = 0; i < methods_count; i++) {
		const HfMethod *m = &methods_table[i];
		assert_non_null(strchr(m->name, '.'));
		assert_ptr_equal(methods_find(m->name), m);
		assert_non_null(m->summary);
		/* names and commands are unique */
		for (size_t j = i + 1; j < methods_count; j++) {
			assert_string_not_equal(m->name, methods_table[j].name);
			assert_string_not_equal(m->command, methods_table[j].command);
		}
		bool seen_optional_positional = false;
		for (const HfParam *p = m->params; p->name; p++) {
			assert_non_null(p->help);
			if (p->type == HF_PT_ENUM)
				assert_non_null(p->choices);
			/* a required positional never follows an optional one */
			if (p->flags & HF_P_POSITIONAL) {
				if (!(p->flags & HF_P_REQUIRED))
					seen_optional_positional = true;
				else
					assert_false(seen_optional_positional);
			}
		}
	}
}

static void test_find_command(void **state)
{
	const char *w1[] = {"snapshot", "create", "w2k8-dc01"};
	int used = 0;
	const HfMethod *m = methods_find_command(w1, 3, &used);
	assert_non_null(m);
	assert_string_equal(m->name, "snapshot.create");
	assert_int_equal(used, 2);
	const char *w2[] = {"guests"};
	m = methods_find_command(w2, 1, &used);
	assert_string_equal(m->name, "guests.list");
	const char *w3[] = {"snapshot"};
	assert_null(methods_find_command(w3, 1, &used));
	const char *w4[] = {"snap", "create"};
	assert_null(methods_find_command(w4, 2, &used));
	const char *w5[] = {"jobs", "show", "3"};
	assert_string_equal(methods_find_command(w5, 3, &used)->name, "jobs.get");
}

static void test_validate(void **state)
{
	char code[64];
	assert_int_equal(validate("guests.list", NULL, code), 0);
	assert_int_equal(validate("guests.list", "{}", code), 0);
	assert_int_equal(validate("guests.list", "{\"all\":true,\"host\":\"a\"}", code), 0);
	assert_int_equal(validate("guests.list", "[]", code), -1);
	assert_string_equal(code, HF_ERR_INVALID_PARAMS);
	assert_int_equal(validate("guests.list", "{\"bogus\":1}", code), -1);
	assert_int_equal(validate("guests.list", "{\"all\":\"yes\"}", code), -1);
	assert_int_equal(validate("guest.show", "{}", code), -1); /* missing guest */
	assert_int_equal(validate("guest.show", "{\"guest\":\"\"}", code), -1);
	assert_int_equal(validate("guest.show", "{\"guest\":7}", code), -1);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"quiesce\":\"try\"}", code), 0);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"quiesce\":\"maybe\"}", code), -1);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"timeout\":0}", code), -1);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"timeout\":601}", code), -1);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"timeout\":2.5}", code), -1);
	assert_int_equal(validate("snapshot.create", "{\"guest\":\"g\",\"timeout\":600}", code), 0);
	assert_int_equal(validate("jobs.get", "{\"job\":0}", code), -1);
	assert_int_equal(validate("jobs.get", "{\"job\":12}", code), 0);
	assert_int_equal(validate("jobs.list", "{\"state\":\"running\"}", code), 0);
	assert_int_equal(validate("jobs.list", "{\"state\":\"sleeping\"}", code), -1);
	/* huge strings are refused */
	char *big = g_malloc(HF_STRING_PARAM_MAX + 64);
	memset(big, 'a', HF_STRING_PARAM_MAX + 10);
	big[HF_STRING_PARAM_MAX + 10] = '\0';
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "guest", big);
	HfError err = {0};
	assert_int_equal(methods_validate(methods_find("guest.show"), p, &err), -1);
	assert_non_null(strstr(err.message, "longer than"));
	cJSON_Delete(p);
	g_free(big);
}

static void test_exit_codes(void **state)
{
	assert_int_equal(error_exit_code(""), HF_EXIT_OK);
	assert_int_equal(error_exit_code(HF_ERR_INVALID_PARAMS), HF_EXIT_USAGE);
	assert_int_equal(error_exit_code(HF_ERR_NOT_FOUND), HF_EXIT_NOT_FOUND);
	assert_int_equal(error_exit_code(HF_ERR_PERMISSION), HF_EXIT_PERMISSION);
	assert_int_equal(error_exit_code(HF_ERR_AGENT_TIMEOUT), HF_EXIT_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_find_command),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
