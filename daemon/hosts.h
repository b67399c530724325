/* hosts.h - the hypervisor hosts of the config: connections, reconnects with backoff, and the
 * guest inventory.
 *
 * The inventory is a per-host cache of DrvGuest, filled by a full listing when a host connects,
 * refreshed per guest on the driver's events (define, start, stop, metadata change) and fully
 * every HOSTS_REFRESH_S as a safety net. guests.list is served from it without a hypervisor
 * call. A host that goes away (libvirtd restart, ssh drop) is reconnected with backoff
 * (1 s doubling to 60 s); meanwhile its guests stay listed with state "host-unreachable". */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "config.h"
#include "drivers/driver.h"
#include "error.h"

typedef struct Host Host;
typedef struct Hosts Hosts;

typedef enum { HOST_CONNECTING, HOST_CONNECTED, HOST_UNREACHABLE } HostState;

Hosts *hosts_new(void);
void hosts_free(Hosts *hs);
/* Start, keep or replace hosts to match the config (on start and on reload). */
void hosts_apply(Hosts *hs, const HfConfig *cfg);
guint hosts_count(Hosts *hs);
Host *hosts_nth(Hosts *hs, guint i);
Host *hosts_find(Hosts *hs, const char *name);
/* Resolve "NAME" or "HOST/NAME" to a host (borrowed) and the guest's name (new string). */
int hosts_resolve(Hosts *hs, const char *address, Host **host, char **guest, HfError *err);

const char *host_name(const Host *h);
const char *host_uri(const Host *h);
int host_max_jobs(const Host *h);
/* State and last error (new string or NULL), consistent with each other. */
HostState host_state(Host *h, char **error);
const char *host_state_name(HostState s);
/* Copies of the cached guests (DrvGuest*), sorted by name. */
GPtrArray *host_guests(Host *h);
/* A copy of one cached guest, or NULL. */
DrvGuest *host_guest(Host *h, const char *name);

/* For worker threads: a referenced connection, or HF_ERR_HOST_UNREACHABLE. */
typedef struct HostConn HostConn;
HostConn *host_conn_get(Host *h, HfError *err);
DrvConn *host_conn_drv(HostConn *hc);
void host_conn_put(HostConn *hc);
/* Tell the host a call failed (any thread): unreachable errors start a reconnect; other
 * errors about a guest refresh that guest in the inventory. */
void host_report(Host *h, const char *guest, const HfError *err);
/* Ask for a refresh of one guest's inventory entry (any thread). */
void host_guest_changed(Host *h, const char *guest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostConn, host_conn_put)

/* Called on a worker thread when a host connected for the first time since the daemon started,
 * before any job can use it (DR copies left by a daemon that died: drrecover.c). */
typedef void (*HostsConnectHook)(DrvConn *conn, const GPtrArray *guests /* DrvGuest* */);
void hosts_set_connect_hook(HostsConnectHook fn);

Host *host_ref(Host *h);
void host_unref(Host *h);
