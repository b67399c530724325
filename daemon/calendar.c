/* calendar.c - systemd OnCalendar-style schedules, next elapse in a time zone, DST rules.
 * See calendar.h for the accepted forms and the DST rules. */
#include "calendar.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

enum { YEAR_MIN = 1970, YEAR_MAX = 2199, MAX_ITEMS = 64 };

struct Calendar {
	char *spec;
	char *normalized;
	GTimeZone *tz;
	uint8_t wdays;	   /* bit 0 = Monday .. bit 6 = Sunday */
	uint64_t years[4]; /* bit (year - YEAR_MIN) */
	uint64_t months;   /* bits 1..12 */
	uint64_t days;	   /* bits 1..31 */
	uint64_t hours;	   /* bits 0..23 */
	uint64_t minutes;  /* bits 0..59 */
	uint64_t seconds;  /* bits 0..59 */
};

/* ---- civil arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

static int weekday_of(int64_t day_number) /* 0 = Monday */
{
	return (int)(((day_number + 3) % 7 + 7) % 7);
}

/* ---- time zone mapping ---- */

static int32_t offset_at(GTimeZone *tz, int64_t utc)
{
	return g_time_zone_get_offset(tz,
				      g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, utc));
}

/* Wall seconds (local civil time counted as if it were UTC) -> UTC instant: an overlap maps
 * to its first occurrence, a gap to the transition that ends it (calendar.h). */
static int64_t wall_to_utc(GTimeZone *tz, int64_t wall)
{
	int32_t cand[3] = {offset_at(tz, wall - 86400), offset_at(tz, wall),
			   offset_at(tz, wall + 86400)};
	bool found = false;
	int64_t best = 0;
	int32_t lo_off = cand[0], hi_off = cand[0];
	for (int i = 0; i < 3; i++) {
		int64_t u = wall - cand[i];
		if (offset_at(tz, u) == cand[i] && (!found || u < best))
			best = u, found = true;
		lo_off = MIN(lo_off, cand[i]);
		hi_off = MAX(hi_off, cand[i]);
	}
	if (found)
		return best;
	/* In a gap: the first instant whose local wall time lies beyond wall. */
	int64_t lo = wall - hi_off, hi = wall - lo_off;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (mid + offset_at(tz, mid) > wall)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void calendar_local_time(GTimeZone *tz, int64_t utc, CalendarLocal *out)
{
	int32_t off = offset_at(tz, utc);
	int64_t wall = utc + off;
	int64_t dn = floor_div(wall, 86400);
	int sod = (int)(wall - dn * 86400);
	memset(out, 0, sizeof(*out));
	civil_from_days(dn, &out->year, &out->month, &out->day);
	out->hour = sod / 3600, out->minute = sod / 60 % 60, out->second = sod % 60;
	out->wday = weekday_of(dn) + 1, out->day_number = dn, out->utc_offset = off;
	int64_t thursday = dn - weekday_of(dn) + 3; /* ISO: the week's Thursday names its year */
	int tm, td;
	civil_from_days(thursday, &out->iso_year, &tm, &td);
	out->iso_week = (int)((thursday - days_from_civil(out->iso_year, 1, 1)) / 7 + 1);
}

int64_t calendar_utc_from_local(GTimeZone *tz, int year, int month, int day, int hour, int minute,
				int second)
{
	int64_t wall =
	    days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
	return wall_to_utc(tz, wall);
}

/* ---- bit helpers ---- */

static int bit_next(uint64_t mask, int from)
{
	uint64_t v = from > 63 ? 0 : mask & (~0ULL << from);
	return v ? __builtin_ctzll(v) : -1;
}

static int bit_prev(uint64_t mask, int from)
{
	if (from < 0)
		return -1;
	uint64_t v = from >= 63 ? mask : mask & ((1ULL << (from + 1)) - 1);
	return v ? 63 - __builtin_clzll(v) : -1;
}

static bool year_ok(const Calendar *c, int y)
{
	if (y < YEAR_MIN || y > YEAR_MAX)
		return false;
	int i = y - YEAR_MIN;
	return (c->years[i / 64] >> (i % 64)) & 1;
}

static bool date_ok(const Calendar *c, int y, int m, int d)
{
	return year_ok(c, y) && ((c->months >> m) & 1) && ((c->days >> d) & 1) &&
	       d <= days_in_month(y, m) && ((c->wdays >> weekday_of(days_from_civil(y, m, d))) & 1);
}

static int bit_step(uint64_t mask, int from, int dir)
{
	return dir > 0 ? bit_next(mask, from) : bit_prev(mask, from);
}

/* The matching second of the day nearest sod: dir +1 the smallest >= sod, -1 the largest
 * <= sod; -1 when there is none. */
static int find_tod(const Calendar *c, int sod, int dir)
{
	int h0 = sod / 3600, m0 = sod / 60 % 60, s0 = sod % 60, edge = dir > 0 ? 0 : 59;
	for (int h = bit_step(c->hours, h0, dir); h >= 0; h = bit_step(c->hours, h + dir, dir)) {
		for (int m = bit_step(c->minutes, h == h0 ? m0 : edge, dir); m >= 0;
		     m = bit_step(c->minutes, m + dir, dir)) {
			int s = bit_step(c->seconds, h == h0 && m == m0 ? s0 : edge, dir);
			if (s >= 0)
				return h * 3600 + m * 60 + s;
		}
	}
	return -1;
}

/* Smallest matching wall time >= wall, or -1. Skips whole years and months. */
static int64_t next_wall(const Calendar *c, int64_t wall)
{
	int64_t dn = floor_div(wall, 86400);
	int sod = (int)(wall - dn * 86400);
	int y, m, d;
	civil_from_days(dn, &y, &m, &d);
	if (y < YEAR_MIN)
		y = YEAR_MIN, m = 1, d = 1, sod = 0;
	while (y <= YEAR_MAX) {
		if (!year_ok(c, y)) {
			y++, m = 1, d = 1, sod = 0;
			continue;
		}
		if (!((c->months >> m) & 1) || d > days_in_month(y, m)) {
			if (++m > 12)
				y++, m = 1;
			d = 1, sod = 0;
			continue;
		}
		if (date_ok(c, y, m, d)) {
			int t = find_tod(c, sod, 1);
			if (t >= 0)
				return days_from_civil(y, m, d) * 86400 + t;
		}
		d++, sod = 0;
	}
	return -1;
}

/* Largest matching wall time <= wall and >= floor, or -1. */
static int64_t prev_wall(const Calendar *c, int64_t wall, int64_t floor)
{
	int64_t dn = floor_div(wall, 86400);
	int sod = (int)(wall - dn * 86400);
	int y, m, d;
	civil_from_days(dn, &y, &m, &d);
	if (y > YEAR_MAX)
		y = YEAR_MAX, m = 12, d = 31, sod = 86399;
	int64_t floor_day = floor_div(floor, 86400);
	while (y >= YEAR_MIN && days_from_civil(y, m, 1) + 31 > floor_day) {
		if (!year_ok(c, y)) {
			y--, m = 12, d = 31, sod = 86399;
			continue;
		}
		if (!((c->months >> m) & 1) || d < 1) {
			if (--m < 1)
				y--, m = 12;
			d = 31, sod = 86399;
			continue;
		}
		if (d <= days_in_month(y, m) && date_ok(c, y, m, d)) {
			int t = find_tod(c, sod, -1);
			if (t >= 0)
				return days_from_civil(y, m, d) * 86400 + t;
		}
		d--, sod = 86399;
	}
	return -1;
}

/* ---- public: elapse ---- */

int calendar_next(const Calendar *c, int64_t after_utc, int64_t *next_utc, HfError *err)
{
	int64_t wall = next_wall(c, after_utc + offset_at(c->tz, after_utc));
	while (wall >= 0) {
		int64_t u = wall_to_utc(c->tz, wall);
		if (u > after_utc) {
			*next_utc = u;
			return 0;
		}
		/* only in a fall-back overlap: the wall time's slot was its first occurrence */
		wall = next_wall(c, wall + 1);
	}
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(after_utc);
	g_autofree char *when =
	    dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");
	return error_set(err, HF_ERR_NOT_FOUND, "calendar '%s' never elapses after %s",
			 c->normalized, when);
}

int calendar_last_before(const Calendar *c, int64_t before_utc, int64_t not_before_utc,
			 int64_t *slot, HfError *err)
{
	if (before_utc < not_before_utc)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "calendar '%s': window ends before it starts", c->normalized);
	/* Start late enough to see wall times of a repeated hour (offsets differ by < 1 day). */
	int32_t hi_off = MAX(offset_at(c->tz, before_utc - 86400), offset_at(c->tz, before_utc));
	hi_off = MAX(hi_off, offset_at(c->tz, before_utc + 86400));
	int64_t floor = not_before_utc - 2 * 86400;
	int64_t wall = prev_wall(c, before_utc + hi_off, floor);
	while (wall >= 0) {
		int64_t u = wall_to_utc(c->tz, wall);
		if (u <= before_utc) {
			if (u <= not_before_utc)
				return 0;
			*slot = u;
			return 1;
		}
		wall = prev_wall(c, wall - 1, floor);
	}
	return 0;
}

const char *calendar_spec(const Calendar *c)
{
	return c->spec;
}

const char *calendar_normalized(const Calendar *c)
{
	return c->normalized;
}

GTimeZone *calendar_zone(const Calendar *c)
{
	return c->tz;
}

void calendar_free(Calendar *c)
{
	if (!c)
		return;
	g_free(c->spec);
	g_free(c->normalized);
	g_clear_pointer(&c->tz, g_time_zone_unref);
	g_free(c);
}

/* ---- parsing ---- */

typedef struct {
	Calendar *c;
	const char *spec;
	GString *norm;
	HfError *err;
} Parser;

/* "calendar 'SPEC': 'TOKEN': message" */
static int G_GNUC_PRINTF(3, 4) bad(Parser *ps, const char *tok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return error_set(ps->err, HF_ERR_INVALID_PARAMS, "calendar '%s': '%s': %s", ps->spec, tok,
			 msg);
}

typedef struct {
	int start, end, step; /* end < 0: none; step 0: none */
} Item;

static int item_cmp(const void *a, const void *b)
{
	const Item *x = a, *y = b;
	if (x->start != y->start)
		return x->start - y->start;
	return x->end != y->end ? x->end - y->end : x->step - y->step;
}

static bool parse_num(const char **p, int *out)
{
	int n = 0, digits = 0;
	for (; isdigit((unsigned char)**p) && digits < 5; (*p)++, digits++)
		n = n * 10 + (**p - '0');
	*out = n;
	return digits > 0 && digits <= 4;
}

/* "a", "a..b", "a/s", "a..b/s" */
static bool parse_item(const char *p, Item *it, bool *fraction)
{
	*it = (Item){0, -1, 0};
	if (!parse_num(&p, &it->start))
		return false;
	if (strncmp(p, "..", 2) == 0 && (p += 2, !parse_num(&p, &it->end)))
		return false;
	if (*p == '/' && (p++, !parse_num(&p, &it->step) || it->step < 1))
		return false;
	*fraction = *p == '.' && isdigit((unsigned char)p[1]);
	return *p == '\0';
}

/* One field ("*", "1,5", "0/15", "2026..2028", "1..12/3"): sets bits (value - base) in
 * bits[] and appends the normalized text. */
static int parse_field(Parser *ps, const char *text, const char *what, int min, int max, int width,
		       uint64_t *bits)
{
	int base = min >= YEAR_MIN ? YEAR_MIN : 0;
	if (strcmp(text, "*") == 0) {
		for (int v = min; v <= max; v++)
			bits[(v - base) / 64] |= 1ULL << ((v - base) % 64);
		g_string_append_c(ps->norm, '*');
		return 0;
	}
	if (strchr(text, '~'))
		return bad(ps, text, "'~' (days from the month's end) is not supported");
	Item items[MAX_ITEMS];
	int n = 0;
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);
	if (!parts[0])
		return bad(ps, text, "bad %s value", what);
	for (char **pp = parts; *pp; pp++) {
		Item it;
		bool fraction = false;
		if (n == MAX_ITEMS)
			return bad(ps, text, "too many %s values", what);
		if (**pp == '*')
			return bad(
			    ps, text,
			    "'*' cannot be combined in a %s list or with a step (write 0/15)",
			    what);
		if (!parse_item(*pp, &it, &fraction))
			return fraction ? bad(ps, text, "fractional %s are not supported", what)
					: bad(ps, text, "bad %s value", what);
		int last = it.end >= 0 ? it.end : it.start;
		if (it.start < min || it.start > max || last > max || last < it.start)
			return bad(ps, *pp, "%s out of range %d..%d", what, min, max);
		if (it.step > max)
			return bad(ps, *pp, "step larger than the %s range", what);
		int stop = it.step ? (it.end >= 0 ? it.end : max) : last;
		for (int v = it.start; v <= stop; v += it.step ? it.step : 1) {
			bits[(v - base) / 64] |= 1ULL << ((v - base) % 64);
			last = v;
		}
		if (it.step && it.end >= 0)
			it.end = last; /* "1..12/3" -> "01..10/3", like systemd */
		items[n++] = it;
	}
	qsort(items, (size_t)n, sizeof(Item), item_cmp);
	for (int i = 0; i < n; i++) {
		if (i > 0 && item_cmp(&items[i], &items[i - 1]) == 0)
			continue;
		g_string_append_printf(ps->norm, "%s%0*d", i > 0 ? "," : "", width, items[i].start);
		if (items[i].end >= 0)
			g_string_append_printf(ps->norm, "..%0*d", width, items[i].end);
		if (items[i].step)
			g_string_append_printf(ps->norm, "/%d", items[i].step);
	}
	return 0;
}

static const char *const wday_names[7][2] = {
    {"Mon", "Monday"}, {"Tue", "Tuesday"},  {"Wed", "Wednesday"}, {"Thu", "Thursday"},
    {"Fri", "Friday"}, {"Sat", "Saturday"}, {"Sun", "Sunday"},
};

static int wday_lookup(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		for (int k = 0; k < 2; k++)
			if (strlen(wday_names[i][k]) == len &&
			    g_ascii_strncasecmp(s, wday_names[i][k], len) == 0)
				return i;
	return -1;
}

static int parse_weekdays(Parser *ps, const char *tok)
{
	g_auto(GStrv) parts = g_strsplit(tok, ",", -1);
	for (char **pp = parts; *pp; pp++) {
		const char *p = *pp, *sep = strstr(p, ".."), *second = NULL;
		if (sep)
			second = sep + 2;
		else if ((sep = strchr(p, '-'))) /* systemd's legacy range syntax */
			second = sep + 1;
		size_t alen = sep ? (size_t)(sep - p) : strlen(p);
		int a = wday_lookup(p, alen), b = a;
		if (a < 0)
			return bad(ps, tok, "unknown weekday '%.*s'", (int)alen, p);
		if (second && (b = wday_lookup(second, strlen(second))) < 0)
			return bad(ps, tok, "unknown weekday '%s'", second);
		if (b < a)
			return bad(ps, *pp, "weekday range runs backwards (write Sat,Sun,Mon)");
		for (int i = a; i <= b; i++)
			ps->c->wdays |= (uint8_t)(1u << i);
	}
	/* normalized: runs of three or more as a..b, Monday first (as systemd prints) */
	uint8_t w = ps->c->wdays;
	for (int i = 0, first = 1; i < 7; i++) {
		if (!((w >> i) & 1))
			continue;
		int j = i;
		while (j + 1 < 7 && ((w >> (j + 1)) & 1))
			j++;
		if (j - i < 2)
			j = i;
		g_string_append_printf(ps->norm, "%s%s", first ? "" : ",", wday_names[i][0]);
		if (j > i)
			g_string_append_printf(ps->norm, "..%s", wday_names[j][0]);
		first = 0;
		i = j;
	}
	g_string_append_c(ps->norm, ' ');
	return 0;
}

static int parse_date(Parser *ps, const char *tok)
{
	g_auto(GStrv) f = g_strsplit(tok, "-", -1);
	guint n = g_strv_length(f);
	if (n != 2 && n != 3)
		return bad(ps, tok, "a date is [YYYY-]MM-DD");
	if (parse_field(ps, n == 3 ? f[0] : "*", "year", YEAR_MIN, YEAR_MAX, 4, ps->c->years) < 0)
		return -1;
	g_string_append_c(ps->norm, '-');
	if (parse_field(ps, f[n - 2], "month", 1, 12, 2, &ps->c->months) < 0)
		return -1;
	g_string_append_c(ps->norm, '-');
	return parse_field(ps, f[n - 1], "day", 1, 31, 2, &ps->c->days);
}

static int parse_time(Parser *ps, const char *tok)
{
	g_auto(GStrv) f = g_strsplit(tok, ":", -1);
	guint n = g_strv_length(f);
	if (n != 2 && n != 3)
		return bad(ps, tok, "a time is HH:MM[:SS]");
	if (parse_field(ps, f[0], "hour", 0, 23, 2, &ps->c->hours) < 0)
		return -1;
	g_string_append_c(ps->norm, ':');
	if (parse_field(ps, f[1], "minute", 0, 59, 2, &ps->c->minutes) < 0)
		return -1;
	g_string_append_c(ps->norm, ':');
	return parse_field(ps, n == 3 ? f[2] : "00", "seconds", 0, 59, 2, &ps->c->seconds);
}

static const char *const shorthands[][2] = {
    {"minutely", "*-*-* *:*:00"},
    {"hourly", "*-*-* *:00:00"},
    {"daily", "*-*-* 00:00:00"},
    {"weekly", "Mon *-*-* 00:00:00"},
    {"monthly", "*-*-01 00:00:00"},
    {"yearly", "*-01-01 00:00:00"},
    {"annually", "*-01-01 00:00:00"},
    {"quarterly", "*-01,04,07,10-01 00:00:00"},
    {"semiannually", "*-01,07-01 00:00:00"},
};

static int parse_zone(Parser *ps, const char *tok)
{
	bool ok = tok[0] != '/' && !strstr(tok, "..");
	for (const char *p = tok; ok && *p; p++)
		ok = g_ascii_isalnum(*p) || strchr("/_-+", *p);
	if (ok)
		ps->c->tz = g_time_zone_new_identifier(tok);
	return ps->c->tz
		   ? 0
		   : bad(ps, tok, "unknown time zone (an IANA name like Europe/Berlin, or UTC)");
}

/* The words of spec without the zone, shorthands expanded. */
static int parse_words(Parser *ps, char **w, guint n)
{
	guint i = 0;
	if (n >= 1 && g_ascii_isalpha(w[0][0])) {
		if (n == 1 && !strpbrk(w[0], ",.-") && wday_lookup(w[0], strlen(w[0])) < 0)
			return bad(ps, w[0],
				   "unknown shorthand or weekday (daily, weekly, "
				   "monthly, ..., Mon..Sun)");
		if (parse_weekdays(ps, w[i++]) < 0)
			return -1;
	} else {
		ps->c->wdays = 0x7f;
	}
	const char *date = "*-*-*", *time = "00:00:00";
	if (i < n && strchr(w[i], '-') && !strchr(w[i], ':'))
		date = w[i++];
	if (i < n && strchr(w[i], ':'))
		time = w[i++];
	if (i < n)
		return bad(ps, w[i], "expected a date ([YYYY-]MM-DD) or a time (HH:MM[:SS]) here");
	if (parse_date(ps, date) < 0)
		return -1;
	g_string_append_c(ps->norm, ' ');
	return parse_time(ps, time);
}

int calendar_parse(const char *spec, GTimeZone *default_tz, Calendar **out, HfError *err)
{
	*out = NULL;
	if (!spec)
		return error_set(err, HF_ERR_INVALID_PARAMS, "calendar: no schedule given");
	g_autoptr(Calendar) c = g_new0(Calendar, 1);
	c->spec = g_strdup(spec);
	g_autoptr(GString) norm = g_string_new(NULL);
	Parser ps = {c, spec, norm, err};
	g_auto(GStrv) raw = g_strsplit_set(spec, " \t", -1);
	char *tok[5];
	guint n = 0;
	for (char **p = raw; *p; p++)
		if (**p && n < 5)
			tok[n++] = *p;
	if (n == 0)
		return error_set(err, HF_ERR_INVALID_PARAMS, "calendar: empty schedule");
	if (n > 4)
		return bad(&ps, tok[4],
			   "too many words (expected [WEEKDAYS] [DATE] [TIME] [ZONE])");
	/* a trailing word that starts with a letter is the zone (IANA names all do) */
	if (n >= 2 && g_ascii_isalpha(tok[n - 1][0]) && !strchr(tok[n - 1], ':')) {
		if (parse_zone(&ps, tok[--n]) < 0)
			return -1;
	}
	g_auto(GStrv) expanded = NULL;
	for (size_t i = 0; n == 1 && !expanded && i < G_N_ELEMENTS(shorthands); i++)
		if (g_ascii_strcasecmp(tok[0], shorthands[i][0]) == 0)
			expanded = g_strsplit(shorthands[i][1], " ", -1);
	if (parse_words(&ps, expanded ? expanded : tok, expanded ? g_strv_length(expanded) : n) < 0)
		return -1;
	if (c->tz)
		g_string_append_printf(norm, " %s", g_time_zone_get_identifier(c->tz));
	else
		c->tz = default_tz ? g_time_zone_ref(default_tz) : g_time_zone_new_utc();
	c->normalized = g_string_free(g_steal_pointer(&norm), FALSE);
	if (next_wall(c, 0) < 0)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "calendar '%s': never elapses (no such date in %d..%d)", spec,
				 YEAR_MIN, YEAR_MAX);
	*out = g_steal_pointer(&c);
	return 0;
}
