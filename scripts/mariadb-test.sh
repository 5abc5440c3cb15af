#!/bin/bash
# mariadb-test.sh start|stop|kill DIR: a throwaway MariaDB server for the
# tests, on 127.0.0.1:33306 (or $SMTPSNIFF_TEST_MYSQL_PORT; also on [::1]
# when loopback has it) and a socket in
# DIR, data in DIR (never the system service). "start" prints the URL to
# use, mysql://root@127.0.0.1:33306/smtpsniff, and starts again on the data
# a "kill" (SIGKILL, for the outage tests) left behind.
set -euo pipefail
cmd=$1
dir=$2
port=${SMTPSNIFF_TEST_MYSQL_PORT:-33306}
case $cmd in
start)
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -p "$dir/mdb"
	# As root the server runs as mysql; as anyone else, as themselves.
	user=()
	if [[ $(id -u) -eq 0 ]]; then
		chown mysql:mysql "$dir/mdb"
		user=(--user=mysql)
	fi
	if [[ ! -d $dir/mdb/data/mysql ]]; then
		mariadb-install-db --no-defaults "${user[@]}" \
		    --datadir="$dir/mdb/data" \
		    --auth-root-authentication-method=normal --skip-test-db \
		    >"$dir/install.log" 2>&1
	fi
	rm -f "$dir/mdb/mysqld.sock" "$dir/mdb/mysqld.pid"
	# ::1 too when loopback has it, for mysql://...@[::1]/ URLs.
	bind=127.0.0.1
	if grep -qs '^0\{31\}1 .* lo$' /proc/net/if_inet6; then
		bind=127.0.0.1,::1
	fi
	mariadbd --no-defaults "${user[@]}" --datadir="$dir/mdb/data" \
	    --socket="$dir/mdb/mysqld.sock" --port="$port" \
	    --bind-address="$bind" --pid-file="$dir/mdb/mysqld.pid" \
	    --log-error="$dir/mdb/error.log" --skip-name-resolve \
	    >/dev/null 2>&1 &
	up=0
	for _ in $(seq 1 200); do
		if mariadb-admin --no-defaults --socket="$dir/mdb/mysqld.sock" \
		    -uroot ping >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.1
	done
	if ((up == 0)); then
		echo "MariaDB did not start; see $dir/mdb/error.log" >&2
		exit 1
	fi
	mariadb --no-defaults --socket="$dir/mdb/mysqld.sock" -uroot \
	    -e "CREATE DATABASE IF NOT EXISTS smtpsniff"
	echo "mysql://root@127.0.0.1:$port/smtpsniff"
	;;
stop)
	mariadb-admin --no-defaults --socket="$dir/mdb/mysqld.sock" -uroot \
	    shutdown >/dev/null 2>&1 || true
	;;
kill)
	if [[ -f $dir/mdb/mysqld.pid ]]; then
		pid=$(cat "$dir/mdb/mysqld.pid")
		kill -9 "$pid" 2>/dev/null || true
		# Gone when it no longer answers (a zombie may linger a while).
		for _ in $(seq 1 100); do
			[[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	;;
*)
	echo "usage: $0 start|stop|kill DIR" >&2
	exit 2
	;;
esac
