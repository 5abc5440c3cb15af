/*
 * main.c: wiring only. Picks the subcommand and hands over.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef SMTPSNIFF_VERSION
#define SMTPSNIFF_VERSION "0.1.0"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff COMMAND [options] ...\n"
	    "commands:\n"
	    "  flows PATH...    one JSON line per TCP connection (reassembly)\n"
	    "  read PATH...     SMTP transaction records (sqlite, json, zeek,\n"
	    "                   eve)\n"
	    "  capture -i IF    live capture from an interface (records as\n"
	    "                   transactions complete)\n"
	    "  query REPORT     search the database (messages)\n"
	    "  smtpsniff COMMAND --help for a command's options\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("smtpsniff %s\n", SMTPSNIFF_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "flows") == 0)
		return cli_flows(argc - 1, argv + 1);
	if (strcmp(argv[1], "read") == 0)
		return cli_read(argc - 1, argv + 1);
	if (strcmp(argv[1], "capture") == 0)
		return cli_capture(argc - 1, argv + 1);
	if (strcmp(argv[1], "query") == 0)
		return cli_query(argc - 1, argv + 1);
	fprintf(stderr, "smtpsniff: %s: unknown or not yet available command\n",
	    argv[1]);
	usage(stderr);
	return 2;
}
