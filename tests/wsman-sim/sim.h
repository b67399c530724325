/* sim.h - hf-wsman-sim: the simulated Hyper-V host's state (VMs, checkpoints, jobs, knobs). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

#define SIM_V2 "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/"
#define SIM_NAMESPACE "root/virtualization/v2"

/* A name/value pair: KVP items, selectors, embedded-instance properties. */
typedef struct {
	char *name;
	char *value;
} SimPair;

SimPair *sim_pair_new(const char *name, const char *value);
void sim_pair_free(gpointer p);
/* Case-insensitive lookup of NAME in a GPtrArray of SimPair; NULL when absent. */
const char *sim_pairs_get(GPtrArray *pairs, const char *name);

typedef enum {
	SIM_SNAP_STANDARD = 2,
	SIM_SNAP_RECOVERY = 32768,
} SimSnapType;

typedef struct {
	char *id;	 /* GUID; VSSD InstanceID is "Microsoft:<id>" */
	char *vm_id;	 /* owning VM's GUID */
	char *name;	 /* ElementName */
	char *parent_id; /* parent checkpoint GUID, NULL for a root */
	gint64 created;	 /* unix microseconds */
	int type;	 /* SimSnapType */
	int vm_state;	 /* EnabledState when taken: applying a running one leaves the VM saved */
} SimSnap;

typedef struct {
	char *id;   /* GUID: Msvm_ComputerSystem.Name */
	char *name; /* ElementName */
	int state; /* EnabledState (2 running, 3 off, 6 saved, 9 paused, 10 starting, 4 stopping) */
	int user_snapshot_type; /* 2 production, 3 production with fallback, 5 standard */
	bool vss;		/* guest can take production checkpoints */
	int vcpus;		/* Msvm_ProcessorSettingData.VirtualQuantity */
	int memory_mb;		/* Msvm_MemorySettingData.VirtualQuantity (startup RAM) */
	char *current_snap;	/* GUID of the checkpoint the VM runs from, or NULL */
	gint64 created;
	gint64 last_change;
	GPtrArray
	    *kvp; /* SimPair: GuestIntrinsicExchangeItems, empty without integration services */
} SimVm;

typedef enum {
	SIM_JOB_STATE_CHANGE,
	SIM_JOB_CREATE_SNAPSHOT,
	SIM_JOB_APPLY_SNAPSHOT,
	SIM_JOB_DESTROY_SNAPSHOT,
	SIM_JOB_EXPORT,
} SimJobKind;

typedef struct {
	char *id; /* InstanceID */
	SimJobKind kind;
	char *method; /* the WMI method that started it */
	gint64 submitted;
	gint64 duration; /* microseconds */
	int job_state;	 /* 4 running, 7 completed, 10 exception */
	int percent;
	int error_code;
	char *error_desc;
	bool will_fail;
	/* what it works on */
	char *vm_id;
	char *snap_id;		    /* applied/destroyed snapshot, or the one created once done */
	int requested_state;	    /* state change target */
	int prev_state;		    /* the VM's state before a state change, restored on failure */
	int snap_type;		    /* CreateSnapshot's SnapshotType */
	char *export_dir;	    /* local directory (already mapped from the host path) */
	GPtrArray *export_settings; /* SimPair from Msvm_VirtualSystemExportSettingData */
	gint64 finished;
} SimJob;

/* A misbehaviour that fires for the next N requests (optionally only for one operation). */
typedef struct {
	int count; /* -1 = always */
	char *op;  /* NULL = any operation */
} SimCountdown;

typedef struct {
	SimCountdown drop;	/* close the connection without a reply */
	SimCountdown malformed; /* send a truncated, non-well-formed envelope */
	SimCountdown quota;	/* w:QuotaLimit fault 2150859173 */
	SimCountdown timeout;	/* w:TimedOut fault 2150858793 */
	SimCountdown fail_jobs; /* started jobs end in JobState 10; op = method name */
	int job_ms;		/* how long a job takes */
	int delay_ms;		/* added before every reply */
	int enum_expiry_ms;	/* enumeration contexts expire after this idle time */
	bool epr_wrapper;	/* wrap references in a:EndpointReference */
} SimKnobs;

typedef struct {
	GMutex lock; /* held while a request reads or changes anything below */
	char *host_name;
	char *lang;
	char *host_caption;
	char *host_description;
	char *vm_caption;
	char *export_root;	/* local directory exports go to */
	char *export_host_path; /* the Windows-style host path that maps onto export_root */
	int vhdx_kib;		/* size of the simulated virtual disk written by an export */
	GPtrArray *vms;		/* SimVm */
	GPtrArray *snaps;	/* SimSnap */
	GPtrArray *jobs;	/* SimJob */
	GHashTable *enums;	/* context id -> SimEnum (enumeration.c) */
	SimKnobs knobs;
	GHashTable *op_counts; /* operation name -> count (GUINT_TO_POINTER) */
	guint requests;
	FILE *log;
} SimState;

/* Errors of the simulator's own setup (options, fleet, listening). */
#define SIM_ERROR sim_error_quark()
GQuark sim_error_quark(void);

/* Escape S for XML text (& < >) or, with ATTR, for an attribute value (also "). */
char *sim_xml_escape(const char *s, bool attr);

gint64 sim_now(void);
/* "2025-12-17T09:55:22.702341Z" */
char *sim_datetime(gint64 usec);
/* Parse "2025-12-17T09:55:22Z" (any ISO 8601 with zone); -1 when invalid. */
gint64 sim_parse_datetime(const char *s);
char *sim_new_guid(void);
/* A WMI object path to a VSSD, as Parent and SnapshotVirtualSystem carry it. */
char *sim_vssd_path(const SimState *st, const char *guid);
/* The GUID inside such a path (or a bare "Microsoft:<GUID>" InstanceID); NULL when none. */
char *sim_vssd_path_guid(const char *path);

void sim_state_init(SimState *st);
void sim_state_clear(SimState *st);
void sim_count_op(SimState *st, const char *op);

/* Lookups: GUIDs and names compare case-insensitively, as WMI does. */
SimVm *sim_vm_find(SimState *st, const char *guid);
SimVm *sim_vm_find_name(SimState *st, const char *name);
SimSnap *sim_snap_find(SimState *st, const char *guid);
SimJob *sim_job_find(SimState *st, const char *id);
void sim_vm_free(gpointer p);
void sim_snap_free(gpointer p);
void sim_job_free(gpointer p);
