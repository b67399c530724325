/* drfailover.h - dr.failover: run a guest at the DR host from its DR copies.
 *
 * --planned: shut the source down (guest agent, then ACPI; bounded; --force-off powers it off
 * when that times out), autostart off, a final copy (a dr.copy job of the shut-off guest, run
 * inside the failover's job: jobs_nest), verify it, mark the source (<hffo:failover> in its
 * metadata: time, point, target host and name; on the same host under the same name the
 * source is first renamed to NAME.failed-over, as the DR guest takes the name), restore the
 * point at the DR host, start it, wait for its guest agent.
 * --emergency: the source is lost: the newest point that verifies again (checksums, qemu-img
 * check of its chain), restored and started at the DR host; the source is only marked (and
 * its autostart turned off) when its host answers; refused while the source runs. The result
 * says the RPO (age of the point used).
 * Each step is reported ("steps": [{step, ok, seconds, detail}]); a failover run again after a
 * partial failure goes on from the mark, the journal and "already restored" (idempotent). The
 * guest never runs on both sides: the source is shut off before anything starts at the DR
 * host, and a marked guest is never copied, snapshotted or started by holdfast. The job holds
 * the source guest (no copy, snapshot or second failover of it runs meanwhile; a second one
 * queues, then goes on from the mark) and a slot on the source's host and on the DR host. */
#pragma once

#include <cjson/cJSON.h>

#include "error.h"
#include "server.h"

#define DRFAILOVER_SUFFIX ".failed-over"

/* dr.failover GUEST --planned|--emergency [--to HOST] [--as NAME] [--dry-run] ...: a job. */
void drfailover_handle(Call *call);
