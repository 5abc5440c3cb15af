/*
 * bulk.h: a batch of units into a database server, table by table, many
 * rows to a statement (MariaDB and PostgreSQL; SQLite, in process, takes
 * them row by row).
 */
#ifndef SMTPSNIFF_BULK_H
#define SMTPSNIFF_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "sql.h"

/*
 * batch: units framed by a 4-byte little-endian length, units of them.
 * Inside the caller's transaction. 0, or -1 (the driver said why);
 * units that do not parse are skipped and counted in *malformed.
 */
int	bulk_apply(const struct sql_driver *, void *h, int64_t sensor_id,
	    const uint8_t *batch, size_t len, unsigned units,
	    uint64_t *malformed);

#endif /* SMTPSNIFF_BULK_H */
