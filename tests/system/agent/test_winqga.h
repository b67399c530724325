/* test_winqga.h - helpers of the winqga local test (test_winqga_local.c) for its cases */
#ifndef TEST_WINQGA_H
#define TEST_WINQGA_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "json.h"

struct peer {
	pid_t pid;
	int fd;
	struct sbuf in; /* bytes read, not yet consumed */
};

struct result {
	int exited;
	long long code;
	unsigned char *out, *err;
	size_t olen, elen;
	char *error; /* guest-exec's error reply */
};

/* winqga --stdio with identity file IDENTITY (in the identity dir) and up to two --set */
void start(struct peer *p, const char *identity, const char *set1, const char *set2);
int stop(struct peer *p);
void send_raw(struct peer *p, const char *s, size_t n);
char *reply(struct peer *p, int timeout_ms, size_t *len);
char *call(struct peer *p, const char *req);
void run(struct peer *p, struct result *r, const char *path, ...);
void result_free(struct result *r);

void ok(int cond, const char *name);
void same(const char *name, const char *got, size_t glen, const char *want);
void same_str(const char *name, char *got, const char *want);
int contains(const char *hay, size_t n, const char *needle);

void test_protocol(void);
void test_registry_and_ver(void);
void test_wmic(void);
void test_licence_and_systeminfo(void);
void test_exec_semantics(void);
void test_freeze_and_misbehaviour(void);
void test_netstat(void);

#endif
