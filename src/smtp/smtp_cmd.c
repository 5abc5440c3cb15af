/*
 * smtp_cmd.c: the command vocabulary and argument parsing (RFC 5321
 * §4.1.1, §4.1.2), BDAT (RFC 3030 §2) and AUTH (RFC 4954 §4). Parsing is
 * lenient where real clients deviate (a space after "FROM:", lower case
 * verbs) and never reads past the line.
 */
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "smtp_int.h"

struct cmd_def {
	const char		*verb;
	enum smtp_cmd_id	 id;
};

static const struct cmd_def cmd_table[] = {
	{ "HELO", SMTP_CMD_HELO },
	{ "EHLO", SMTP_CMD_EHLO },
	{ "LHLO", SMTP_CMD_LHLO },
	{ "MAIL", SMTP_CMD_MAIL },
	{ "RCPT", SMTP_CMD_RCPT },
	{ "DATA", SMTP_CMD_DATA },
	{ "BDAT", SMTP_CMD_BDAT },
	{ "RSET", SMTP_CMD_RSET },
	{ "NOOP", SMTP_CMD_NOOP },
	{ "VRFY", SMTP_CMD_VRFY },
	{ "EXPN", SMTP_CMD_EXPN },
	{ "HELP", SMTP_CMD_HELP },
	{ "QUIT", SMTP_CMD_QUIT },
	{ "STARTTLS", SMTP_CMD_STARTTLS },
	{ "AUTH", SMTP_CMD_AUTH },
	{ "ETRN", SMTP_CMD_ETRN },
	{ "XCLIENT", SMTP_CMD_XCLIENT },
	{ "XFORWARD", SMTP_CMD_XFORWARD },
};

const char *
smtp_cmd_name(enum smtp_cmd_id id)
{
	size_t i;

	if (id == SMTP_CMD_DATA_END)
		return "DATA_END";
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (cmd_table[i].id == id)
			return cmd_table[i].verb;
	return "UNKNOWN";
}

static bool
is_sp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool
not_sp(uint8_t c)
{
	return !is_sp(c);
}

static bool
is_sp_or_cr(uint8_t c)
{
	return is_sp(c) || c == '\r';
}

static struct span
trim(struct span s)
{
	struct cur c = cur_make(s.p, s.len);

	(void)cur_take_while(&c, is_sp);
	return span_rtrim(cur_rest(&c), is_sp_or_cr);
}

/*
 * "FROM:<path> params" (or TO:). Returns false when the keyword is
 * missing. The path is what is between < and > (a '>' inside a quoted
 * local part does not end it), or a bare address up to white space.
 */
static bool
parse_path(struct span arg, const char *kw, struct smtp_cmd *c)
{
	struct cur in = cur_make(arg.p, arg.len);
	size_t kwlen = strlen(kw), i;
	bool quoted = false;
	int b;

	if (arg.len < kwlen ||
	    ascii_casecmp(arg.p, (const uint8_t *)kw, kwlen) != 0)
		return false;
	(void)cur_skip(&in, kwlen);
	(void)cur_take_while(&in, is_sp);
	if (cur_peek(&in) == '<') {
		c->path_bracketed = true;
		(void)cur_skip(&in, 1);
		for (i = 0; (b = cur_peek_at(&in, i)) != -1; i++) {
			if (b == '"')
				quoted = !quoted;
			else if (b == '\\' && quoted &&
			    cur_peek_at(&in, i + 1) != -1)
				i++;
			else if (b == '>' && !quoted)
				break;
		}
		(void)cur_take(&in, i, &c->path);
		if (cur_peek(&in) == '>')
			(void)cur_skip(&in, 1);
	} else {
		c->path = cur_take_while(&in, not_sp);
	}
	c->params = trim(cur_rest(&in));
	return true;
}

static bool
is_digit(uint8_t c)
{
	return ascii_isdigit(c);
}

/* RFC 3030 §2: "BDAT" SP chunk-size [ SP end-marker ], size 1*DIGIT. */
static void
parse_bdat(struct span arg, struct smtp_cmd *c)
{
	struct cur in = cur_make(arg.p, arg.len);
	struct span digits = cur_take_while(&in, is_digit);
	struct cur d = cur_make(digits.p, digits.len);
	uint64_t v = 0;

	c->bdat_ok = false;
	if (digits.len == 0)
		return;
	while (d.len > 0) {
		if (v > (UINT64_MAX - 9) / 10)
			return;		/* absurd: not a chunk we follow */
		v = v * 10 + (uint64_t)(cur_u8(&d) - '0');
	}
	c->bdat_size = v;
	(void)cur_take_while(&in, is_sp);
	if (in.len == 0) {
		c->bdat_ok = true;
		return;
	}
	if (in.len == 4 &&
	    ascii_casecmp(in.p, (const uint8_t *)"LAST", 4) == 0) {
		c->bdat_last = true;
		c->bdat_ok = true;
	}
}

/*
 * Parse one command line (CRLF already stripped) into *c. The spans point
 * into line. Unknown verbs give SMTP_CMD_UNKNOWN.
 */
void
smtp_cmd_parse(struct span line, struct smtp_cmd *c)
{
	struct cur in = cur_make(line.p, line.len), m;
	size_t vlen;

	memset(c, 0, sizeof(*c));
	(void)cur_take_while(&in, is_sp);
	c->verb = cur_take_while(&in, not_sp);
	c->arg = trim(cur_rest(&in));
	vlen = c->verb.len;
	c->id = SMTP_CMD_UNKNOWN;
	for (size_t k = 0; k < sizeof(cmd_table) / sizeof(cmd_table[0]); k++) {
		if (strlen(cmd_table[k].verb) == vlen &&
		    ascii_casecmp(c->verb.p,
		    (const uint8_t *)cmd_table[k].verb, vlen) == 0) {
			c->id = cmd_table[k].id;
			break;
		}
	}
	/* "MAIL FROM:x" may come as one token when no space follows ':'. */
	switch (c->id) {
	case SMTP_CMD_MAIL:
		c->path_ok = parse_path(c->arg, "FROM:", c);
		break;
	case SMTP_CMD_RCPT:
		c->path_ok = parse_path(c->arg, "TO:", c);
		break;
	case SMTP_CMD_BDAT:
		parse_bdat(c->arg, c);
		break;
	case SMTP_CMD_AUTH:
		m = cur_make(c->arg.p, c->arg.len);
		c->auth_mech = cur_take_while(&m, not_sp);
		break;
	default:
		break;
	}
}

/* Is this line a command we know (used to resynchronise)? */
bool
smtp_cmd_is_known(struct span line)
{
	struct smtp_cmd c;

	smtp_cmd_parse(line, &c);
	return c.id != SMTP_CMD_UNKNOWN;
}
