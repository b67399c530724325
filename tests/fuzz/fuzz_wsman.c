/* fuzz_wsman.c - libFuzzer target: any bytes as a WS-Man response (and its fault, items,
 * output and embedded KVP instances) must parse or fail cleanly, never crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include <libxml/xmlerror.h>

#include "drivers/wsman.h"

static void silent(void *ctx, const char *msg, ...)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		xmlSetGenericErrorFunc(NULL, silent);
		init = 1;
	}
	WsmanResponse *r = NULL;
	HfError err = {0};
	if (wsman_parse_response((const char *)data, size, &r, &err) == 0) {
		HfError e = {0};
		if (r->fault)
			wsman_fault_error(r->fault, "fuzz", "fuzzing", &e);
		for (guint i = 0; i < r->items->len; i++) {
			const WsmanInst *in = r->items->pdata[i];
			long long v;
			wsman_inst_int(in, "JobState", &v);
			HfError je = {0};
			wsman_job_error(in, "fuzz", "fuzzing", &je);
			GPtrArray *kvp = wsman_inst_values(in, "GuestIntrinsicExchangeItems");
			for (guint k = 0; kvp && k < kvp->len; k++) {
				char *cls = NULL;
				HfError ke = {0};
				GHashTable *t = wsman_embedded_parse(kvp->pdata[k], &cls, &ke);
				if (t)
					g_hash_table_unref(t);
				g_free(cls);
			}
			g_free(wsman_path_guid(wsman_inst_get(in, "Parent")));
		}
		if (r->output)
			wsman_ref_selector(wsman_inst_ref(r->output, "Job"), "InstanceID");
		wsman_response_free(r);
	}
	return 0;
}
