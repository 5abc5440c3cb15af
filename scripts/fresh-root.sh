#!/bin/bash
# fresh-root.sh [-u] [-n N] [REPO]: run the README's first command, as root, in
# a fresh Debian 12 minbase root filesystem with nothing preinstalled: what
# a new user's container has (no sudo, no compiler, no python3, apt lists
# never fetched). The command is the first ```sh block of README.md, so the
# README and this check cannot drift apart. REPO (default: this checkout)
# is git-cloned into the root filesystem: its committed HEAD is what is
# tried. Before it, deps.sh run as a user (nobody; a minbase has no sudo)
# must fail and say what to do.
#
# Passes when the command exits 0 and its `query messages` lists the bundled
# sample's messages. -n 2 runs the README's second block instead (the test
# suite, scripts/test.sh: too slow for every CI run, but the proof that
# deps.sh --test installs all the suite needs); it passes when that exits 0.
# -u runs it as a user with sudo (sudo is installed first, the apt lists
# are then removed again), instead of as root: a check to run by hand.
# Needs root (debootstrap, mount, chroot) and the Debian mirror; when it
# cannot run it fails, it never skips.
#
# The pristine root filesystem (debootstrap --variant=minbase bookworm) is
# kept as a tarball in $SMTPSNIFF_CI_CACHE (default /var/cache/smtpsniff-ci),
# named by month and ROOTFS_VERSION: it is made again each month (or when
# ROOTFS_VERSION is raised), and each run unpacks a fresh copy of it.
set -euo pipefail
ROOTFS_VERSION=1
block=1
user=
while [[ ${1:-} == -* ]]; do
	case $1 in
	-n)	block=${2:?usage: $0 [-u] [-n N] [REPO]}
		shift 2 ;;
	-u)	user=tester
		shift ;;
	*)	echo "usage: $0 [-u] [-n N] [REPO]" >&2
		exit 2 ;;
	esac
done
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cache=${SMTPSNIFF_CI_CACHE:-/var/cache/smtpsniff-ci}
# The whole command (apt-get install + build + read) and debootstrap each
# get a deadline, so a stuck mirror fails the check instead of hanging CI.
cmd_timeout=${SMTPSNIFF_FRESH_TIMEOUT:-1800}
dbs_timeout=900

die() {
	echo "fresh-root: $*" >&2
	exit 1
}
((EUID == 0)) || die "must run as root (debootstrap, mount, chroot)"
start=$SECONDS

# The README's first (or N-th) ```sh block, verbatim.
readme_cmd=$(awk -v want="$block" '/^```sh$/ { n++; f = n == want; next }
    f && /^```/ { exit } f' "$repo/README.md")
[[ -n ${readme_cmd//[[:space:]]/} ]] ||
    die "no ${block}th \`\`\`sh block in $repo/README.md"

# The mirror this machine's apt uses (deb822 first, then sources.list).
mirror=
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
	mirror=$(awk '$1 == "URIs:" { print $2; exit }' \
	    /etc/apt/sources.list.d/debian.sources)
fi
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
	mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' \
	    /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

# apt-get with one retry: a dropped connection to the mirror is not a bug
# of ours, a second failure is reported.
apt_retry() {
	apt-get "$@" || { sleep 5; apt-get "$@"; }
}

tarball=$cache/bookworm-minbase-v$ROOTFS_VERSION-$(date -u +%Y%m).tar
if [[ ! -s $tarball ]]; then
	if ! command -v debootstrap >/dev/null; then
		echo "== installing debootstrap"
		export DEBIAN_FRONTEND=noninteractive
		apt_retry update -q
		apt_retry install -y -q --no-install-recommends debootstrap
	fi
	mkdir -p "$cache"
	t0=$SECONDS
	ok=
	for attempt in 1 2; do
		build=$(mktemp -d "$cache/build.XXXXXX")
		chmod 755 "$build"
		echo "== debootstrap --variant=minbase bookworm $mirror" \
		    "(attempt $attempt)"
		if timeout "$dbs_timeout" debootstrap --variant=minbase \
		    bookworm "$build" "$mirror" >"$cache/debootstrap.log" 2>&1
		then
			ok=1
		else
			tail -n 20 "$cache/debootstrap.log" >&2
		fi
		# debootstrap mounts proc and sys while it works; a failed
		# one may leave them.
		umount -R "$build/proc" "$build/sys" 2>/dev/null || true
		if [[ -n $ok ]]; then
			tar --numeric-owner -C "$build" -cf "$tarball.tmp" .
			mv "$tarball.tmp" "$tarball"
		fi
		rm -rf --one-file-system "$build"
		[[ -z $ok ]] || break
	done
	[[ -n $ok ]] ||
	    die "debootstrap failed twice; see $cache/debootstrap.log"
	echo "== root filesystem made and cached in $((SECONDS - t0)) s:" \
	    "$tarball"
	# Older months' and versions' tarballs are stale.
	find "$cache" -maxdepth 1 -name 'bookworm-minbase-*.tar' \
	    ! -path "$tarball" -delete
else
	echo "== cached root filesystem: $tarball"
fi

root=
cleanup() {
	local rc=$? pid
	[[ -n $root && -d $root ]] || return $rc
	# Whatever the command left running in there (a build, a daemon).
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$root" ]] &&
		    kill -KILL "$pid" 2>/dev/null || true
	done
	# Lazily if busy: detached, nothing in the tree is the host's any more.
	if mountpoint -q "$root/dev"; then
		umount -R "$root/dev" || umount -R -l "$root/dev" || true
	fi
	if mountpoint -q "$root/proc"; then
		umount "$root/proc" || umount -l "$root/proc" || true
	fi
	# Never remove the tree while anything is still mounted in it: the
	# host's /dev would go with it.
	if findmnt -rn -o TARGET | grep -q "^$root/"; then
		echo "fresh-root: still mounted under $root, left in place" >&2
		((rc != 0)) || rc=1
	else
		rm -rf --one-file-system "$root"
	fi
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$(mktemp -d /var/tmp/smtpsniff-fresh.XXXXXX)
tar --numeric-owner -C "$root" -xpf "$tarball"
# mktemp made it 0700: as /, it must be 0755 for users (nobody, postgres).
chmod 755 "$root"
home=/root
[[ -z $user ]] || home=/home/$user
mkdir -p "$root$home"
git clone -q "$repo" "$root$home/smtpsniff"
echo "== cloned $(git -C "$root$home/smtpsniff" log -1 --format='%h %s')"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
# So that unmounting it never reaches the host's /dev.
mount --make-rslave "$root/dev"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# As a user, on a machine without sudo (a minbase has none), deps.sh
# cannot install: it must say so and what to do, and fail.
cp "$root$home/smtpsniff/scripts/deps.sh" "$root/tmp/deps.sh"
chmod 755 "$root/tmp/deps.sh"
set +e
out=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    /usr/sbin/runuser -u nobody -- /tmp/deps.sh </dev/null 2>&1)
rc=$?
set -e
rm -f "$root/tmp/deps.sh"
if ((rc != 1)) || ! grep -q "sudo is not installed" <<<"$out" ||
    ! grep -q "as root" <<<"$out"; then
	printf '%s\n' "$out" >&2
	die "deps.sh as a user without sudo: exit $rc, not 1 with advice"
fi
echo "== as a user without sudo, deps.sh says what to do:"
printf '%s\n' "$out" | sed 's/^/   /'

# A login's environment, nothing of ours.
in_root=(chroot "$root" /usr/bin/env -i HOME=/root
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    LANG=C.UTF-8 TERM=dumb)
as=(/bin/bash)
if [[ -n $user ]]; then
	echo "== -u: installing sudo, adding $user (passwordless sudo)"
	"${in_root[@]}" DEBIAN_FRONTEND=noninteractive /bin/bash -ec "
	    apt-get update -q >/dev/null
	    apt-get install -y -q --no-install-recommends sudo >/dev/null
	    rm -rf /var/lib/apt/lists/*
	    useradd -M -d $home -s /bin/bash $user
	    echo '$user ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/$user
	    chown -R $user: $home"
	as=(/usr/sbin/runuser -u "$user" -- /usr/bin/env HOME="$home"
	    /bin/bash)
fi
echo "== in a fresh Debian 12 minbase, as ${user:-root}, in $home/smtpsniff," \
    "the README's sh block $block:"
printf '%s\n' "$readme_cmd" | sed 's/^/   $ /'
t1=$SECONDS
log=$root/tmp/fresh.log
set +e
# The test servers' ports (-n 2) go through: the chroot shares the host's
# network, where other test servers may hold the default ones.
ports=()
for v in SMTPSNIFF_TEST_MYSQL_PORT SMTPSNIFF_TEST_PG_PORT; do
	[[ -z ${!v:-} ]] || ports+=("$v=${!v}")
done
timeout "$cmd_timeout" "${in_root[@]}" CI="${CI:-}" "${ports[@]}" \
    "${as[@]}" -ec "cd $home/smtpsniff
$readme_cmd" </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "== the README's sh block $block exited $rc after $((SECONDS - t1)) s"
((rc == 0)) || die "the README's sh block $block failed (exit $rc)"
if ((block != 1)); then
	echo "== fresh-root: passed; $((SECONDS - start)) s in all"
	exit 0
fi

# It must really have shown records: the sample's messages, as the query
# prints them. The senders expected are read from the capture's own bytes
# (its MAIL FROM commands as they cross the wire), not written down here.
pcap=$root$home/smtpsniff/tests/pcap/peers/zeek-smtp.pcap
mapfile -t senders < <(grep -aoE 'MAIL FROM: ?<[^>]+>' "$pcap" |
    sed 's/.*<//; s/>//' | sort -u)
((${#senders[@]} > 0)) || die "no MAIL FROM found in $pcap"
shown=$(sed -n '/query messages/,$p' "$log" | tail -n +2)
for s in "${senders[@]}"; do
	grep -qF -- "$s" <<<"$shown" ||
	    die "query messages did not list the sample's message from $s"
done
echo "== fresh-root: passed (messages from ${senders[*]} listed);" \
    "$((SECONDS - start)) s in all"
