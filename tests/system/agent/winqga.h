/* winqga.h - a QEMU guest agent peer that answers as a Windows Server 2008 guest.
 * Runs inside the stand-in guest (on the virtio-serial port) or locally (--stdio, --listen)
 * for unit tests. Follows qemu's qga/commands.c and qga/commands-win32.c. */
#ifndef WINQGA_H
#define WINQGA_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define WQ_MAX_KBS 64
#define WQ_MAX_FREEZE 8
#define WQ_MAX_PROCS 64
#define WQ_MAX_LISTEN 8
#define WQ_FRAME_MAX (1u << 20) /* one request may carry guest-exec input-data */

/* misbehaviour flags (identity key "misbehave") */
enum {
	WQ_HANG_FREEZE = 1 << 0, /* freeze the volumes but never answer guest-fsfreeze-freeze */
	WQ_SILENT = 1 << 1,	 /* hold the port, answer nothing */
	WQ_SILENT_AFTER_SYNC = 1 << 2, /* answer guest-sync, then nothing else */
	WQ_GARBAGE = 1 << 3, /* answer guest-sync, then non-JSON bytes for everything else */
};

struct identity {
	char name[64];
	char hostname[64];
	int build;	       /* 6001 6002 6003 7600 7601 */
	int revision;	       /* ntoskrnl file revision, e.g. 21481 */
	char arch[8];	       /* x86 amd64 ia64 */
	int product_type;      /* 1 workstation, 2 domain controller, 3 server */
	char edition_id[48];   /* ServerStandard ... */
	char product_name[96]; /* Windows Server (R) 2008 Standard */
	char csd_version[32];  /* "Service Pack 2"; empty: value absent */
	char branch[48];       /* vistasp2_ldr_escrow */
	char build_date[16];   /* yymmdd-hhmm */
	char buildlabex[128];  /* derived unless set */
	char buildlab[128];    /* derived unless set */
	char registered_owner[64];
	char product_id[32];
	uint32_t install_date; /* REG_DWORD, seconds since 1970 */
	char kbs[WQ_MAX_KBS][48];
	int nkbs;
	unsigned esu_years;	/* bit y set: ESU year y licensed (LicenseStatus 1) */
	char agent_version[16]; /* qemu-ga version; < 2.5 lacks guest-exec, < 2.10 osinfo */
	unsigned misbehave;
	int delay_ms; /* every reply is delayed this long */
	int hang_ms;  /* WQ_HANG_FREEZE: answer after this long (0: never) */
	int exec_ms;  /* simulated run time of a Windows program */
	int listen[WQ_MAX_LISTEN]; /* TCP ports the guest's "services" listen on (real sockets) */
	int nlisten;
	char timezone[64];
	int tz_offset; /* seconds east of UTC */
};

int identity_defaults(struct identity *id);
/* Reads "key = value" lines over the defaults; on error fills err (file:line: problem). */
int identity_load(struct identity *id, const char *path, char *err, size_t errlen);
void identity_finish(struct identity *id); /* derives BuildLab/BuildLabEx when unset */
/* one "key=value" over the loaded identity (--set) */
int identity_set(struct identity *id, const char *kv, char *err, size_t errlen);
int identity_agent_at_least(const struct identity *id, int major, int minor);
int identity_has_kb(const struct identity *id, const char *kb);
/* Open the identity's listen ports (0.0.0.0, TCP) as real listening sockets, like the Windows
 * services that own them would; a port that cannot be bound is logged. */
void identity_listen(const struct identity *id);
const char *identity_version(const struct identity *id); /* "6.0" or "6.1" */

/* A Windows program's result (simulated) */
struct winprog_result {
	struct sbuf out, err;
	int32_t exitcode;
};

/* Runs the simulated Windows program `path` with args. Returns 0 when the program exists
 * (result filled), -1 when CreateProcess would fail (not found). */
int winprog_run(const struct identity *id, const char *path, char *const *args, int nargs,
		struct winprog_result *res);

struct proc {
	int64_t pid;	    /* 0: free slot */
	int real;	    /* a real process (escape hatch) */
	int out_fd, err_fd; /* real: capture pipes, -1 when closed */
	int reaped, status;
	int64_t done_at_ms; /* simulated: exits at this monotonic time */
	int32_t exitcode;
	int capture; /* output captured */
	struct sbuf out, err;
};

struct agent {
	struct identity id;
	int in_fd, out_fd;
	char *freeze[WQ_MAX_FREEZE];
	int nfreeze;
	int frozen;
	int synced;	  /* a guest-sync was answered (for *_AFTER_SYNC) */
	int escape_hatch; /* allow /bin/... (real) programs in guest-exec */
	int64_t next_pid;
	struct proc procs[WQ_MAX_PROCS];
	int64_t hang_until_ms; /* pending hung freeze reply (-1: none) */
	char hang_reply[256];
};

extern int wq_allow_power;
int64_t wq_now_ms(void);
void wq_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wq_log_bytes(const char *dir, const char *s, size_t n);

/* commands.c: handles one request object; appends the reply (if any) to out */
void cmd_dispatch(struct agent *a, const char *req, size_t len, struct sbuf *out);
void cmd_error(struct sbuf *out, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cmd_freeze_all(struct agent *a, int thaw);

/* exec.c */
void exec_start(struct agent *a, const struct jval *args, struct sbuf *out);
void exec_status(struct agent *a, const struct jval *args, struct sbuf *out);
void exec_poll_fds(struct agent *a, int *fds, int *nfds, int max);
void exec_service(struct agent *a); /* drain pipes, reap children */

#endif
