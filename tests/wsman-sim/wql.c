/* wql.c - a small tokenizer and recursive-descent parser for the WQL the driver sends. */
#include "wql.h"

#include <string.h>

typedef enum {
	TOK_END,
	TOK_IDENT,
	TOK_STRING,
	TOK_NUMBER,
	TOK_SYMBOL, /* * , . = { } <> != */
	TOK_ERROR,
} TokKind;

typedef struct {
	const char *p;
	TokKind kind;
	char *text; /* current token */
	char *err;
} Lexer;

static void lex_next(Lexer *lx)
{
	g_clear_pointer(&lx->text, g_free);
	while (g_ascii_isspace(*lx->p))
		lx->p++;
	const char *s = lx->p;
	if (!*s) {
		lx->kind = TOK_END;
		return;
	}
	if (g_ascii_isalpha(*s) || *s == '_') {
		while (g_ascii_isalnum(*lx->p) || *lx->p == '_')
			lx->p++;
		lx->kind = TOK_IDENT;
		lx->text = g_strndup(s, (gsize)(lx->p - s));
		return;
	}
	if (g_ascii_isdigit(*s) || (*s == '-' && g_ascii_isdigit(s[1]))) {
		lx->p++;
		while (g_ascii_isdigit(*lx->p) || *lx->p == '.')
			lx->p++;
		lx->kind = TOK_NUMBER;
		lx->text = g_strndup(s, (gsize)(lx->p - s));
		return;
	}
	if (*s == '\'' || *s == '"') {
		char quote = *s;
		GString *str = g_string_new(NULL);
		lx->p++;
		while (*lx->p && *lx->p != quote) {
			if (*lx->p == '\\' && lx->p[1])
				lx->p++;
			g_string_append_c(str, *lx->p++);
		}
		if (!*lx->p) {
			g_string_free(str, TRUE);
			lx->kind = TOK_ERROR;
			lx->err = g_strdup("unterminated string literal");
			return;
		}
		lx->p++;
		lx->kind = TOK_STRING;
		lx->text = g_string_free(str, FALSE);
		return;
	}
	if ((s[0] == '<' && s[1] == '>') || (s[0] == '!' && s[1] == '=')) {
		lx->p += 2;
		lx->kind = TOK_SYMBOL;
		lx->text = g_strdup("<>");
		return;
	}
	if (strchr("*,.={}", *s)) {
		lx->p++;
		lx->kind = TOK_SYMBOL;
		lx->text = g_strndup(s, 1);
		return;
	}
	lx->kind = TOK_ERROR;
	lx->err = g_strdup_printf("unexpected character '%c'", *s);
}

static bool is_kw(const Lexer *lx, const char *kw)
{
	return lx->kind == TOK_IDENT && g_ascii_strcasecmp(lx->text, kw) == 0;
}

static bool is_sym(const Lexer *lx, const char *sym)
{
	return lx->kind == TOK_SYMBOL && strcmp(lx->text, sym) == 0;
}

static bool fail(Lexer *lx, const char *what)
{
	if (!lx->err)
		lx->err =
		    g_strdup_printf("expected %s near '%s'", what, lx->text ? lx->text : "end");
	return false;
}

/* Take the current token if it is a keyword/symbol, else fail. */
static bool expect_kw(Lexer *lx, const char *kw)
{
	if (!is_kw(lx, kw))
		return fail(lx, kw);
	lex_next(lx);
	return true;
}

static bool expect_sym(Lexer *lx, const char *sym)
{
	if (!is_sym(lx, sym))
		return fail(lx, sym);
	lex_next(lx);
	return true;
}

static char *take_ident(Lexer *lx)
{
	if (lx->kind != TOK_IDENT) {
		fail(lx, "a name");
		return NULL;
	}
	char *s = g_steal_pointer(&lx->text);
	lex_next(lx);
	return s;
}

static char *take_value(Lexer *lx)
{
	if (lx->kind != TOK_STRING && lx->kind != TOK_NUMBER &&
	    !(is_kw(lx, "TRUE") || is_kw(lx, "FALSE"))) {
		fail(lx, "a value");
		return NULL;
	}
	char *s = g_steal_pointer(&lx->text);
	lex_next(lx);
	return s;
}

static void cond_free(gpointer p)
{
	WqlCond *c = p;
	g_free(c->prop);
	g_free(c->value);
	g_free(c);
}

/* prop = value | prop <> value | prop IS [NOT] NULL, joined by AND */
static bool parse_conds(Lexer *lx, WqlQuery *q)
{
	do {
		WqlCond *c = g_new0(WqlCond, 1);
		g_ptr_array_add(q->conds, c);
		if (!(c->prop = take_ident(lx)))
			return false;
		if (is_kw(lx, "IS")) {
			lex_next(lx);
			c->op = WQL_IS_NULL;
			if (is_kw(lx, "NOT")) {
				lex_next(lx);
				c->op = WQL_NOT_NULL;
			}
			if (!expect_kw(lx, "NULL"))
				return false;
			continue;
		}
		c->op = is_sym(lx, "<>") ? WQL_NE : is_kw(lx, "LIKE") ? WQL_LIKE : WQL_EQ;
		if (!is_sym(lx, "<>") && !is_sym(lx, "=") && !is_kw(lx, "LIKE"))
			return fail(lx, "=, <> or LIKE");
		lex_next(lx);
		if (!(c->value = take_value(lx)))
			return false;
	} while (is_kw(lx, "AND") && (lex_next(lx), true));
	return true;
}

static bool parse_select(Lexer *lx, WqlQuery *q)
{
	if (!expect_sym(lx, "*"))
		return fail(lx, "* (the simulator, like the driver, selects whole instances)");
	if (!expect_kw(lx, "FROM") || !(q->cls = take_ident(lx)))
		return false;
	if (is_kw(lx, "WHERE")) {
		lex_next(lx);
		return parse_conds(lx, q);
	}
	return true;
}

/* {Class.Key='v',Key2="v"} WHERE AssocClass=X ResultClass=Y */
static bool parse_associators(Lexer *lx, WqlQuery *q)
{
	if (!expect_kw(lx, "OF") || !expect_sym(lx, "{") || !(q->cls = take_ident(lx)))
		return false;
	if (!expect_sym(lx, "."))
		return false;
	do {
		g_autofree char *k = take_ident(lx);
		if (!k || !expect_sym(lx, "="))
			return false;
		g_autofree char *v = take_value(lx);
		if (!v)
			return false;
		g_ptr_array_add(q->keys, sim_pair_new(k, v));
	} while (is_sym(lx, ",") && (lex_next(lx), true));
	if (!expect_sym(lx, "}"))
		return false;
	if (!is_kw(lx, "WHERE"))
		return true;
	lex_next(lx);
	while (lx->kind == TOK_IDENT) {
		char **slot = is_kw(lx, "AssocClass")	 ? &q->assoc_class
			      : is_kw(lx, "ResultClass") ? &q->result_class
							 : NULL;
		if (!slot)
			return fail(lx, "AssocClass or ResultClass");
		lex_next(lx);
		if (!expect_sym(lx, "="))
			return false;
		g_free(*slot);
		if (!(*slot = take_ident(lx)))
			return false;
	}
	return true;
}

WqlQuery *wql_parse(const char *text, char **errmsg)
{
	g_autoptr(WqlQuery) q = g_new0(WqlQuery, 1);
	q->conds = g_ptr_array_new_with_free_func(cond_free);
	q->keys = g_ptr_array_new_with_free_func(sim_pair_free);
	Lexer lx = {.p = text};
	lex_next(&lx);
	bool ok;
	if (is_kw(&lx, "SELECT")) {
		q->kind = WQL_SELECT;
		lex_next(&lx);
		ok = parse_select(&lx, q);
	} else if (is_kw(&lx, "ASSOCIATORS")) {
		q->kind = WQL_ASSOCIATORS;
		lex_next(&lx);
		ok = parse_associators(&lx, q);
	} else {
		ok = fail(&lx, "SELECT or ASSOCIATORS");
	}
	if (ok && lx.kind != TOK_END)
		ok = fail(&lx, "the end of the query");
	g_free(lx.text);
	if (!ok) {
		*errmsg = g_steal_pointer(&lx.err);
		return NULL;
	}
	return g_steal_pointer(&q);
}

void wql_free(WqlQuery *q)
{
	if (!q)
		return;
	g_free(q->cls);
	g_ptr_array_unref(q->conds);
	g_ptr_array_unref(q->keys);
	g_free(q->assoc_class);
	g_free(q->result_class);
	g_free(q);
}

int wql_match(const WqlQuery *q, const SimInst *in, const char **bad_prop)
{
	for (guint i = 0; i < q->conds->len; i++) {
		const WqlCond *c = g_ptr_array_index(q->conds, i);
		const InstProp *p = inst_prop(in, c->prop);
		if (!p) {
			*bad_prop = c->prop;
			return -1;
		}
		const char *v = p->values->len ? g_ptr_array_index(p->values, 0) : NULL;
		bool ok;
		switch (c->op) {
		case WQL_IS_NULL:
			ok = v == NULL;
			break;
		case WQL_NOT_NULL:
			ok = v != NULL;
			break;
		case WQL_NE:
			ok = v && g_ascii_strcasecmp(v, c->value) != 0;
			break;
		case WQL_LIKE: {
			size_t n = strcspn(c->value, "%_[");
			ok = v && g_ascii_strncasecmp(v, c->value, n) == 0 &&
			     (c->value[n] == '%' ? c->value[n + 1] == '\0' : v[n] == '\0');
			break;
		}
		default:
			ok = v && g_ascii_strcasecmp(v, c->value) == 0;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}
