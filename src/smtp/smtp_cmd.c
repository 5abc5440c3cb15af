/*
 * smtp_cmd.c: the command vocabulary and argument parsing (RFC 5321
 * §4.1.1, §4.1.2), BDAT (RFC 3030 §2) and AUTH (RFC 4954 §4). Parsing is
 * lenient where real clients deviate (a space after "FROM:", lower case
 * verbs) and never reads past the line.
 */
#include <string.h>

#include "common/ascii.h"
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

static struct span
trim(struct span s)
{
	while (s.len > 0 && is_sp(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (is_sp(s.p[s.len - 1]) || s.p[s.len - 1] == '\r'))
		s.len--;
	return s;
}

/*
 * "FROM:<path> params" (or TO:). Returns false when the keyword is
 * missing. The path is what is between < and > (a '>' inside a quoted
 * local part does not end it), or a bare address up to white space.
 */
static bool
parse_path(struct span arg, const char *kw, struct smtp_cmd *c)
{
	size_t kwlen = strlen(kw), i = 0, start;
	bool quoted = false;

	if (arg.len < kwlen ||
	    ascii_casecmp(arg.p, (const uint8_t *)kw, kwlen) != 0)
		return false;
	i = kwlen;
	while (i < arg.len && is_sp(arg.p[i]))
		i++;
	if (i < arg.len && arg.p[i] == '<') {
		c->path_bracketed = true;
		start = ++i;
		for (; i < arg.len; i++) {
			if (arg.p[i] == '"')
				quoted = !quoted;
			else if (arg.p[i] == '\\' && quoted && i + 1 < arg.len)
				i++;
			else if (arg.p[i] == '>' && !quoted)
				break;
		}
		c->path.p = arg.p + start;
		c->path.len = i - start;
		if (i < arg.len)
			i++;		/* past '>' */
	} else {
		start = i;
		while (i < arg.len && !is_sp(arg.p[i]))
			i++;
		c->path.p = arg.p + start;
		c->path.len = i - start;
	}
	c->params.p = arg.p + i;
	c->params.len = arg.len - i;
	c->params = trim(c->params);
	return true;
}

/* RFC 3030 §2: "BDAT" SP chunk-size [ SP end-marker ], size 1*DIGIT. */
static void
parse_bdat(struct span arg, struct smtp_cmd *c)
{
	size_t i = 0;
	uint64_t v = 0;

	c->bdat_ok = false;
	if (arg.len == 0 || !ascii_isdigit(arg.p[0]))
		return;
	while (i < arg.len && ascii_isdigit(arg.p[i])) {
		if (v > (UINT64_MAX - 9) / 10)
			return;		/* absurd: not a chunk we follow */
		v = v * 10 + (uint64_t)(arg.p[i] - '0');
		i++;
	}
	c->bdat_size = v;
	while (i < arg.len && is_sp(arg.p[i]))
		i++;
	if (i == arg.len) {
		c->bdat_ok = true;
		return;
	}
	if (arg.len - i == 4 &&
	    ascii_casecmp(arg.p + i, (const uint8_t *)"LAST", 4) == 0) {
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
	size_t i = 0, vlen;
	struct span arg;

	memset(c, 0, sizeof(*c));
	while (i < line.len && is_sp(line.p[i]))
		i++;
	c->verb.p = line.p + i;
	while (i < line.len && !is_sp(line.p[i]))
		i++;
	c->verb.len = (size_t)(line.p + i - c->verb.p);
	arg.p = line.p + i;
	arg.len = line.len - i;
	c->arg = trim(arg);
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
		c->auth_mech = c->arg;
		for (i = 0; i < c->auth_mech.len; i++)
			if (is_sp(c->auth_mech.p[i]))
				break;
		c->auth_mech.len = i;
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
