/*
 * config.h: the configuration file (-c FILE). One setting per line,
 * "key = value", '#' starts a comment; a key the program does not know is
 * an error (a typo must not silently leave a default in force). Command
 * line options win over the file, the environment over the file for the
 * password. Keys (smtpsniff(1), CONFIGURATION):
 *   sensor, spool_dir, output (repeatable), db_password,
 *   pseudonymise_key_file
 */
#ifndef SMTPSNIFF_CONFIG_H
#define SMTPSNIFF_CONFIG_H

#include <stddef.h>

#include "common/log.h"

#define CONFIG_MAX_OUTPUTS	16

struct config {
	char	*sensor;
	char	*spool_dir;
	char	*outputs[CONFIG_MAX_OUTPUTS];
	size_t	 noutputs;
	char	*db_password;
	char	*pseudonymise_key_file;
};

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
