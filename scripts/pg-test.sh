#!/bin/bash
# pg-test.sh start|stop|kill DIR: a throwaway PostgreSQL 15 server for the
# tests, on 127.0.0.1:35432 and a socket in DIR/pg, data in DIR/pg/data,
# trust authentication (never the system service: see NOTES). "start"
# prints the URL to use (and reuses DIR/pg/data if it is already there):
#   postgresql://postgres@127.0.0.1:35432/smtpsniff
# "kill" SIGKILLs the postmaster (outage tests); a later "start" recovers.
set -euo pipefail
cmd=$1
dir=$2
[[ $dir == /* ]] || dir=$PWD/$dir
port=${SMTPSNIFF_TEST_PG_PORT:-35432}
bin=/usr/lib/postgresql/15/bin
# initdb and postgres refuse to run as root: run them as postgres, from /
# (the caller's cwd may be unreadable to postgres).
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}
# Whether DIR's postmaster is up: postmaster.pid names a live postgres
# process (not a zombie: a killed one may linger as such, unreaped).
running() {
	local pid
	pid=$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null) || return 1
	[[ $(ps -o stat=,comm= -p "$pid" || true) =~ ^[^Z].*\ postgres$ ]]
}
case $cmd in
start)
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -p "$dir/pg"
	[[ $(id -u) -ne 0 ]] || chown postgres:postgres "$dir/pg"
	if [[ ! -f $dir/pg/data/PG_VERSION ]]; then
		as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres -E UTF8 \
		    --locale=C --auth=trust >"$dir/pg/initdb.log" 2>&1 || {
			echo "$0: initdb failed; see $dir/pg/initdb.log" >&2
			exit 1
		}
	fi
	grep -q "^include = 'smtpsniff-test.conf'" \
	    "$dir/pg/data/postgresql.conf" ||
	    echo "include = 'smtpsniff-test.conf'" >>"$dir/pg/data/postgresql.conf"
	# Rewritten on every start: the port may differ from the last one.
	# fsync off is safe for what the tests do (they kill the server, not
	# the machine: the kernel keeps what was written); synchronous_commit
	# stays on, or a killed server loses commits it had acknowledged and
	# the outage test would blame the store for it.
	as_pg tee "$dir/pg/data/smtpsniff-test.conf" >/dev/null <<-EOF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '${dir//\'/\'\'}/pg'
		fsync = off
		full_page_writes = off
	EOF
	if ! running; then
		# After a "kill": its lock files are stale (and name its pid,
		# which may still be an unreaped zombie: postgres would refuse).
		rm -f "$dir/pg/data/postmaster.pid" "$dir/pg"/.s.PGSQL.*
		as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" \
		    -w -t 10 start >>"$dir/pg/pg_ctl.log" 2>&1 || {
			echo "$0: PostgreSQL did not start; see" \
			    "$dir/pg/server.log" >&2
			exit 1
		}
	fi
	ready=
	for _ in $(seq 1 100); do
		if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres \
		    -U postgres; then
			ready=1
			break
		fi
		sleep 0.1
	done
	if [[ -z $ready ]]; then
		echo "$0: PostgreSQL on 127.0.0.1:$port not ready after 10 s;" \
		    "see $dir/pg/server.log" >&2
		exit 1
	fi
	psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/pg" -p "$port"
	    -U postgres -d postgres)
	if [[ -z $("${psql[@]}" -tAc \
	    "SELECT 1 FROM pg_database WHERE datname = 'smtpsniff'") ]]; then
		"${psql[@]}" -c "CREATE DATABASE smtpsniff OWNER postgres" \
		    >>"$dir/pg/pg_ctl.log"
	fi
	echo "postgresql://postgres@127.0.0.1:$port/smtpsniff"
	;;
stop)
	running || exit 0
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast stop \
	    >>"$dir/pg/pg_ctl.log" 2>&1 || true
	;;
kill)
	running || exit 0
	pid=$(head -n 1 "$dir/pg/data/postmaster.pid")
	pids=$pid
	for kid in $(ps -o pid= --ppid "$pid" || true); do
		pids+=,$kid
	done
	kill -KILL "$pid"
	# Its children exit once they see it gone; wait for them (they hold
	# its shared memory, which would make the next "start" fail).
	for _ in $(seq 1 100); do
		live=$(ps -o stat= -p "$pids" | grep -cv '^Z' || true)
		((live > 0)) || break
		sleep 0.1
	done
	;;
*)
	echo "usage: $0 start|stop|kill DIR" >&2
	exit 2
	;;
esac
