/*
 * config.h: the configuration file (-c FILE), an INI file read strictly:
 *   - a comment is a line whose first non-blank character is '#' or ';'
 *     (never the rest of a line: a password may hold either);
 *   - "key = value": the value is everything after the first '=', blanks
 *     at both ends trimmed, taken whole; or "key = \"value\"", in double
 *     quotes, where \" and \\ are the only escapes (for a value with
 *     blanks at its ends, or that starts with a quote);
 *   - "[name]" starts a section; keys before any section are the
 *     top-level keys below, as in files without sections;
 *   - a key or section the program does not know, a line without '=',
 *     an empty value, a bad quote, a NUL byte or a line longer than
 *     LIMIT_CONFIG_LINE is an error naming the file and line (a typo must
 *     not silently leave a default in force).
 * Command line options win over the file, the environment over the file
 * for the password. Top-level keys (smtpsniff(1), CONFIGURATION):
 *   sensor, spool_dir, spool_max, output (repeatable), db_password,
 *   pseudonymise_key_file
 */
#ifndef SMTPSNIFF_CONFIG_H
#define SMTPSNIFF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#include "common/log.h"


struct config {
	char	*sensor;
	char	*spool_dir;
	uint64_t spool_max;	/* bytes; 0: not given */
	char	*outputs[LIMIT_OUTPUTS];
	size_t	 noutputs;
	char	*db_password;
	char	*pseudonymise_key_file;
	/*
	 * [read] and [capture]: any of the command's long options, '-'
	 * written '_' ("memcap = 1G", "no_promisc = yes"), applied before
	 * the command line, which wins. Checked by the command.
	 */
	struct config_opt {
		char	*section;	/* "read" or "capture" */
		char	*key;
		char	*val;
	} opts[LIMIT_CONFIG_OPTS];
	size_t	 nopts;
};

/*
 * A section's keys, as a table: the detection policy adds its sections
 * ("[policy]" and the like) by adding rows, each key with the function
 * that takes its value. A row whose name is NULL takes any key of its
 * section (a section of names: networks, servers, domains). set() gets
 * the value unquoted, NUL-terminated and non-empty, owned by the parser
 * (copy it to keep it); it returns 0, or -1 with why in err (the parser
 * adds the file and line).
 */
typedef int	 config_set_fn(void *arg, const char *key, const char *val,
		    char err[ERRBUF_SIZE]);

struct config_key {
	const char	*name;
	config_set_fn	*set;
};

struct config_section {
	const char		*name;	/* "" for keys before any [section] */
	const struct config_key	*keys;	/* ended by a row whose set is NULL */
};

/*
 * Read an INI file by a table of sections (ended by a row whose name is
 * NULL): every value goes to its key's set(arg, ...). A section may
 * appear more than once. 0, or -1 with "FILE:LINE: why" in err.
 */
int	config_parse(const char *path, const struct config_section *,
	    void *arg, char err[ERRBUF_SIZE]);

/* 0, or -1 with "FILE:LINE: why" in err. */
int	config_load(const char *path, struct config *, char err[ERRBUF_SIZE]);
void	config_free(struct config *);
/* The password for a database URL without one: environment, then file. */
const char *config_db_password(const struct config *);
struct record_pseudo;
/*
 * The pseudonymiser keyed by pseudonymise_key_file (the file's bytes, at
 * least 16; wiped once used). -1 with err set; 0 with *out NULL when the
 * configuration asks for none.
 */
int	config_pseudonymiser(const struct config *, struct record_pseudo **out,
	    char err[ERRBUF_SIZE]);

#endif /* SMTPSNIFF_CONFIG_H */
