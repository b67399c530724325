/* ownstore.c - the records of holdfast-made snapshots. */
#include "ownstore.h"

#include <glib.h>
#include <string.h>

#include "statefile.h"

/* Clock skew allowed between our intent time and the hypervisor's creation time. */
#define OWN_SKEW_S 120

static GMutex own_lock;

static char *own_path(const OwnKey *k)
{
	return g_strdup_printf("%s/snapshots/%s/%s.json", k->state_dir, k->host, k->uuid);
}

static cJSON *load(const OwnKey *k, HfError *err)
{
	g_autofree char *path = own_path(k);
	cJSON *doc = NULL;
	if (statefile_read_json(path, &doc, err) < 0)
		return NULL;
	if (!doc)
		doc = cJSON_CreateObject();
	if (!cJSON_IsArray(cJSON_GetObjectItem(doc, "snapshots"))) {
		cJSON_DeleteItemFromObject(doc, "snapshots");
		cJSON_AddArrayToObject(doc, "snapshots");
	}
	return doc;
}

static int save(const OwnKey *k, cJSON *doc, HfError *err)
{
	g_autofree char *path = own_path(k);
	int r = statefile_write_json(path, doc, err);
	cJSON_Delete(doc);
	return r;
}

static cJSON *find(cJSON *doc, const char *name, int *index)
{
	cJSON *r;
	int i = 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "snapshots"))
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "name"));
		if (n && !strcmp(n, name)) {
			if (index)
				*index = i;
			return r;
		}
		i++;
	}
	return NULL;
}

int ownstore_intent(const OwnKey *k, const char *guest, const char *name, int64_t job,
		    HfError *err)
{
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err);
	int idx;
	if (!doc) {
		g_mutex_unlock(&own_lock);
		return -1;
	}
	if (find(doc, name, &idx))
		cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "snapshots"), idx);
	cJSON_DeleteItemFromObject(doc, "guest");
	cJSON_AddStringToObject(doc, "guest", guest);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddBoolToObject(r, "pending", 1);
	cJSON_AddNumberToObject(r, "intent", (double)(g_get_real_time() / G_USEC_PER_SEC));
	cJSON_AddNumberToObject(r, "job", (double)job);
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "snapshots"), r);
	int ret = save(k, doc, err);
	g_mutex_unlock(&own_lock);
	return ret;
}

int ownstore_commit(const OwnKey *k, const char *name, int64_t created, const char *consistency,
		    const char *reason, const char *quiesce, HfError *err)
{
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err), *r;
	if (!doc) {
		g_mutex_unlock(&own_lock);
		return -1;
	}
	r = find(doc, name, NULL);
	if (!r) {
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", name);
		cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "snapshots"), r);
	}
	cJSON_DeleteItemFromObject(r, "pending");
	cJSON_DeleteItemFromObject(r, "created");
	cJSON_AddNumberToObject(r, "created", (double)created);
	cJSON_DeleteItemFromObject(r, "consistency");
	cJSON_AddStringToObject(r, "consistency", consistency);
	cJSON_DeleteItemFromObject(r, "reason");
	cJSON_AddStringToObject(r, "reason", reason);
	cJSON_DeleteItemFromObject(r, "quiesce");
	cJSON_AddStringToObject(r, "quiesce", quiesce);
	int ret = save(k, doc, err);
	g_mutex_unlock(&own_lock);
	return ret;
}

int ownstore_drop(const OwnKey *k, const char *name, HfError *err)
{
	int idx, ret = 0;
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err);
	if (!doc)
		ret = -1;
	else if (find(doc, name, &idx)) {
		cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "snapshots"), idx);
		ret = save(k, doc, err);
	} else
		cJSON_Delete(doc);
	g_mutex_unlock(&own_lock);
	return ret;
}

cJSON *ownstore_lookup(const OwnKey *k, const char *name, int64_t created)
{
	HfError err = {0};
	cJSON *out = NULL;

	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, &err);
	cJSON *r = doc ? find(doc, name, NULL) : NULL;
	if (r) {
		bool pending = cJSON_IsTrue(cJSON_GetObjectItem(r, "pending"));
		double when = cJSON_GetNumberValue(
			cJSON_GetObjectItem(r, pending ? "intent" : "created"));
		if (pending ? created >= (int64_t)when - OWN_SKEW_S : created == (int64_t)when)
			out = cJSON_Duplicate(r, 1);
	}
	cJSON_Delete(doc);
	g_mutex_unlock(&own_lock);
	return out;
}

int ownstore_set_policy(const OwnKey *k, const char *name, const char *policy, int64_t slot,
			int64_t taken, HfError *err)
{
	int ret;
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err), *r;
	if (!doc) {
		g_mutex_unlock(&own_lock);
		return -1;
	}
	if (!(r = find(doc, name, NULL))) {
		cJSON_Delete(doc);
		g_mutex_unlock(&own_lock);
		return error_set(err, HF_ERR_NOT_FOUND, "no ownership record of snapshot '%s'", name);
	}
	cJSON_DeleteItemFromObject(r, "policy");
	cJSON_AddStringToObject(r, "policy", policy);
	cJSON_DeleteItemFromObject(r, "slot");
	cJSON_AddNumberToObject(r, "slot", (double)slot);
	cJSON_DeleteItemFromObject(r, "taken");
	cJSON_AddNumberToObject(r, "taken", (double)taken);
	ret = save(k, doc, err);
	g_mutex_unlock(&own_lock);
	return ret;
}

int ownstore_pin(const OwnKey *k, const char *name, int64_t created, bool pinned, HfError *err)
{
	int ret;
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err), *r;
	if (!doc) {
		g_mutex_unlock(&own_lock);
		return -1;
	}
	r = find(doc, name, NULL);
	if (!r || cJSON_IsTrue(cJSON_GetObjectItem(r, "pending")) ||
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "created")) != created) {
		cJSON_Delete(doc);
		g_mutex_unlock(&own_lock);
		return error_set(err, HF_ERR_NOT_FOUND,
				 "snapshot '%s' was not made by holdfast: only holdfast's own "
				 "snapshots can be pinned (foreign ones are never pruned anyway)",
				 name);
	}
	cJSON_DeleteItemFromObject(r, "pinned");
	cJSON_AddBoolToObject(r, "pinned", pinned);
	ret = save(k, doc, err);
	g_mutex_unlock(&own_lock);
	return ret;
}

cJSON *ownstore_records(const OwnKey *k, HfError *err)
{
	g_mutex_lock(&own_lock);
	cJSON *doc = load(k, err);
	cJSON *out = doc ? cJSON_Duplicate(cJSON_GetObjectItem(doc, "snapshots"), 1) : NULL;
	cJSON_Delete(doc);
	g_mutex_unlock(&own_lock);
	return out;
}
