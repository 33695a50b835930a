# SPDX-License-Identifier: GPL-2.0
# Common helpers for the test bed scripts; sourced, not executed.
#
# The cache is the machine's, not a clone's: every clone and every CI run
# on the machine shares it (TESTBED_CACHE overrides /var/cache/kvm-hv-relay).
# What two runs may touch at once is under a lock (take_lock).
#   apt/<release>/            private apt state (lists, cache, sources.list)
#   debs/                     downloaded .debs, reused by file name
#   k/<kver>/                 unpacked kernel: vmlinuz, modules/, headers root (bookworm)
#   src/<srcver>/             unpacked linux-source tree + built selftest library
#   chroot/trixie/            debootstrapped build chroot for trixie and backports
#   build/<kver>/<key>/       module build, our selftests, upstream selftest binaries,
#                             per source tree (build_key); the newest few are kept
#   kernels/<name>.env        resolved versions of the last fetch of a release
#   locks/                    the locks
# A clone's own (git-ignored):
#   out/logs/<kernel>-<vendor>.log  guest serial logs
#   out/boot/<id>/            a boot's initramfs and emulator files

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TB_DIR/../.." && pwd)
CACHE=${TESTBED_CACHE:-/var/cache/kvm-hv-relay}
OUT=${TESTBED_OUT:-$REPO/out}
ALL_KERNELS="bookworm trixie backports rt"
# make check's kernels; rt has its own target (make check-rt, test-bed.rst)
CHECK_KERNELS="bookworm trixie backports"
ALL_VENDORS="intel amd"

log() { printf '# %s\n' "$*" >&2; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

# TAP lines exchanged between the scripts are unnumbered ("ok - name",
# "not ok - name", "ok - name # SKIP why"); check.sh numbers them.
tap_ok()   { printf 'ok - %s\n' "$1"; }
tap_fail() { printf 'not ok - %s\n' "$1"; [ -z "${2:-}" ] || printf '# %s\n' "$2"; }
tap_skip() { printf 'ok - %s # SKIP %s\n' "$1" "$2"; }

# The Debian mirror is whatever this machine's apt uses: never hard-coded.
mirror_uri() {
	if [ -n "${TESTBED_MIRROR:-}" ]; then echo "${TESTBED_MIRROR%/}"; return; fi
	local u
	u=$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security/*$' | head -n1)
	if [ -z "$u" ] && [ -r /etc/apt/sources.list ]; then
		u=$(awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list | grep -v -- '-security/*$' | head -n1)
	fi
	[ -n "$u" ] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources"
	echo "${u%/}"
}
# The security archive: same host, path /debian-security.
security_uri() { mirror_uri | sed -E 's#^([a-zA-Z]+://[^/]+).*#\1/debian-security#'; }

# Suites and apt target release of each kernel "name".
release_suites() {
	case $1 in
	bookworm)  echo "bookworm bookworm-updates bookworm-security" ;;
	trixie|rt) echo "trixie trixie-updates trixie-security" ;;
	backports) echo "trixie trixie-updates trixie-security trixie-backports" ;;
	*) die "unknown kernel '$1' (want one of: $ALL_KERNELS)" ;;
	esac
}
release_target() {
	case $1 in backports) echo trixie-backports ;; rt) echo trixie ;; *) echo "$1" ;; esac
}
# rt: trixie's PREEMPT_RT flavour, a cell of its own for what RT changes
# (spinlock_t sleeps, the ftrace callbacks' context).  Intel only: KVM
# refuses to load on PREEMPT_RT without a constant TSC ("RT requires
# X86_FEATURE_CONSTANT_TSC"), which an AMD guest has only with invtsc, and
# QEMU's TCG offers no invtsc; Bochs' Intel models have it by family/model.
kernel_meta() { [ "$1" = rt ] && echo linux-image-rt-amd64 || echo linux-image-amd64; }
kernel_vendors() { [ "$1" = rt ] && echo intel || echo "$ALL_VENDORS"; }
# kernel_plan <kernel>: our selftests its --check boot runs, when not all.
# rt: those that take the hooks' lock and unload under load (a Bochs boot of
# the whole plan, upstream tests twice, took 2698 s on trixie: its upstream
# tests and the parity pass are trixie's cells', the same source).
kernel_plan() {
	[ "$1" != rt ] || echo "relay_test relay_concurrency relay_lifecycle relay_hardening relay_hostile"
}
# has_vendor <kernel> <vendor>: is this a cell of the matrix?
has_vendor() { case " $(kernel_vendors "$1") " in *" $2 "*) ;; *) return 1 ;; esac; }
# Kernels built in the trixie chroot (glibc >= 2.38, gcc-14) rather than on the host.
in_chroot() { [ "$1" != bookworm ]; }

# Private apt: never touches the host's apt state.
apt_dir() { echo "$CACHE/apt/$1"; }
apt_opts() {
	local d; d=$(apt_dir "$1")
	printf '%s\n' -o "Dir::State::Lists=$d/lists" -o "Dir::Etc::SourceList=$d/sources.list" \
		-o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Cache=$d/cache" \
		-o "Dir::State::status=/dev/null" -o "Dir::Etc::Preferences=/dev/null" \
		-o "Dir::Etc::PreferencesParts=/dev/null" -o "APT::Sandbox::User=root" \
		-o "Debug::NoLocking=1" -o "Acquire::Languages=none"
	# backports: prefer trixie-backports (NotAutomatic) like "apt-get -t"
	[ "$1" != backports ] || printf '%s\n' -o "APT::Default-Release=trixie-backports"
}
papt_get()   { local -a o; mapfile -t o < <(apt_opts "$1"); shift; apt-get "${o[@]}" "$@"; }
papt_cache() { local -a o; mapfile -t o < <(apt_opts "$1"); shift; apt-cache "${o[@]}" "$@"; }
# field <name> <pkg[=ver]> <Field>: the first record's field. awk reads to
# the end: one that exits early leaves apt-cache writing into a closed pipe,
# and its SIGPIPE fails the pipeline under pipefail
field() {
	papt_cache "$1" show "$2" 2>/dev/null |
		awk -v f="$3:" '!done && $1 == f { sub(/^[^:]*: */, ""); print; done = 1 } /^$/ { done = 1 }'
}
candidate() {
	papt_cache "$1" policy "$2" 2>/dev/null | awk '!done && $1 == "Candidate:" { print $2; done = 1 }'
}

# tap_passed <file>: the unnumbered TAP of a boot passed: a result at least,
# and none "not ok" (boot.sh --check and --e2e exit 0 whatever their cases
# gave: check.sh counts them)
tap_passed() { grep -q '^ok ' "$1" && ! grep -q '^not ok' "$1"; }

# Load the resolved versions of a kernel name (written by fetch.sh).
load_kernel_env() {
	local f="$CACHE/kernels/$1.env"
	[ -r "$f" ] || "$TB_DIR/fetch.sh" "$1" >&2 || die "fetch of $1 failed"
	# shellcheck disable=SC1090
	. "$f"
}

# repo_sums [<file>...]: sha256sum of files named by their path in the
# repository (stdin: one name per line), never by the clone's own path, so
# that a hash of them is the same in every clone
# shellcheck disable=SC2120 # build.sh passes file names
repo_sums() {
	if [ $# -gt 0 ]; then (cd "$REPO" && sha256sum "${@#"$REPO"/}")
	else (cd "$REPO" && xargs -r -d '\n' sha256sum); fi
}

# build_key: a hash of what a kernel's builds are made of (the module,
# selftests, shim, uapi and the scripts that build them), so that clones of
# one commit share their builds and a clone of another commit never boots
# them.  TESTBED_BUILD_KEY (build.sh and check.sh export it) pins it for a
# run: an edit made while it runs does not move its builds.
build_key() {
	if [ -n "${TESTBED_BUILD_KEY:-}" ]; then echo "$TESTBED_BUILD_KEY"; return; fi
	(cd "$REPO" && { git ls-files -co --exclude-standard 2>/dev/null || find . -type f -printf '%P\n'; } |
		grep -vE '^(\.git|\.cache|out|Documentation|debian|bench|\.ci|tools/(fuzz|testbed))(/|$)|^tools/[^/]*$' |
		cat - <(printf 'tools/testbed/%s\n' build.sh selftests.sh ours.mk btfmod.py chroot.sh \
			upstream.list e2e/l1vmm.c) | sort -u |
		while read -r f; do [ ! -f "$f" ] || echo "$f"; done) | repo_sums | sha256sum | cut -c1-12
}
# build_dir: where this source tree's builds for the loaded kernel live
build_dir() { echo "$CACHE/build/$KVER/$(build_key)"; }

# avail_mb <dir>: free megabytes on the file system that holds <dir>
avail_mb() { df -Pm "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
# disk_check <kernel>...: refuse, in one line, a run that cannot fit, rather
# than let a full disk fail it anywhere (a git commit included).  What a
# run writes, measured (test-bed.rst): out/ and its builds about 2 GB; a
# kernel not yet in the cache about 3 GB (its debs, unpacked image, source
# and selftest builds); the trixie chroot and the packaging chroots 2 GB.
disk_check() {
	local k need=2048 why="out/ and builds 2 GB" missing= d avail fs_c fs_o
	for k in "$@"; do
		[ -e "$CACHE/kernels/$k.env" ] || { need=$((need + 3072)) missing+=" $k"; }
	done
	[ -z "$missing" ] || why+=", kernels not yet in the cache (${missing# }) 3 GB each"
	if [ ! -e "$CACHE/chroot/trixie/.ready" ]; then
		need=$((need + 2048)) why+=", build and packaging chroots 2 GB"
	fi
	d=$CACHE; while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	fs_c=$(stat -c %d "$d") avail=$(avail_mb "$d")
	mkdir -p "$OUT"; fs_o=$(stat -c %d "$OUT")
	if [ "$fs_c" != "$fs_o" ] && [ "$(avail_mb "$OUT")" -lt "$avail" ]; then avail=$(avail_mb "$OUT"); fi
	[ -n "$avail" ] || return 0
	[ "$avail" -lt "$need" ] || return 0
	die "$((avail / 1024)).$((avail % 1024 * 10 / 1024)) GB free for $CACHE and $OUT, this run needs about $(((need + 1023) / 1024)) GB ($why): free some, or point TESTBED_CACHE elsewhere"
}

# Trixie build chroot.
CHROOT=$CACHE/chroot/trixie

# watch_console <pid> <log> <ceiling> <stall>: follow an emulator's serial
# log until the guest says "TESTBED: end", panics, exceeds <ceiling> seconds
# or, once /init has started, leaves the log unchanged for <stall> seconds
# (a hung guest: check's tests print a heartbeat). Sets fate (poweroff, panic,
# watchdog, stall), t_init and t_plan (seconds from the call). <log>.times
# gets each console line with the host second it was seen at: the guest's
# clock under Bochs is no measure of host time.
watch_console() {
	local pid=$1 log=$2 ceiling=$3 stall=$4 t0 el s n size=0 t_grew=0 lines=0
	fate=watchdog t_init= t_plan= t0=$(now)
	: >"$log.times"
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		el=$(($(now) - t0))
		s=$(stat -c %s "$log")
		if [ "$s" != "$size" ]; then
			size=$s t_grew=$el n=$(wc -l <"$log")
			sed -n "$((lines + 1)),${n}p" "$log" | sed "s/^/$el /" >>"$log.times"
			lines=$n
		fi
		[ -n "$t_init" ] || ! grep -q '^TESTBED: start' "$log" || t_init=$el
		[ -n "$t_plan" ] || ! grep -q '^TESTBED: plan' "$log" || t_plan=$el
		if grep -q '^TESTBED: end' "$log"; then
			fate=poweroff
			for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
			break
		fi
		# not the e2e lane's L1, whose console is shown as "#   l1|" lines
		if awk '!/^#/ && /Kernel panic - not syncing|Rebooting in/ { f = 1 } END { exit !f }' "$log"; then
			fate=panic; sleep 3; break
		fi
		[ "$el" -lt "$ceiling" ] || break
		if [ -n "$t_init" ] && [ $((el - t_grew)) -ge "$stall" ]; then
			fate=stall; break
		fi
	done
	# the emulator may power off between two looks at the log
	[ $fate != watchdog ] || ! grep -q '^TESTBED: end' "$log" || fate=poweroff
}

# kill_tree <pid> [-signal]: a process and all its descendants (children
# first are found, then killed).
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c" "${2:-}"; done
	kill ${2:-} "$1" 2>/dev/null || true
}
# On exit, stop the background work of this script.
kill_children_on_exit() {
	trap 'trap - EXIT INT TERM; for c in $(ps -o pid= --ppid $$); do kill_tree "$c"; done' EXIT
	trap 'exit 130' INT TERM
}

# Hold a named lock until this process exits (cache dirs are shared between runs).
take_lock() {
	local fd
	mkdir -p "$CACHE/locks"
	exec {fd}>"$CACHE/locks/$1"
	flock "$fd"
}

# kernel_lines <log> <vendor> <kernel> <probe timestamp>: a boot log's lines
# other than the warnings known-bad.list tolerates, for boot.sh's health
# check (which greps them for WARNING:, BUG:, Oops...).
# WARN blocks of known-bad.list's "warning:" entries are left out, and noted,
# but only those the kernel printed before /init started, i.e. before kvm was
# loaded: the CPU model's own early-boot warnings.  The dmesg dump at the end
# repeats them, with the same timestamp, and those copies are left out too.
# "after:" entries (warning:<text>@after:<mark>) are left out once each,
# and only after a kernel line "testbed: tolerate once: <text>" from the test
# that stages them: a test that first measured the same warning from stock
# KVM (relay_vmxoff), not a test excusing the module.
# "stack:" entries (stack:<text>@after:<mark>) are a dump_stack() that the
# kernel prints right after a line containing <text>, such as sysfs's for a
# duplicate name that relay_hardening stages: its CPU, Hardware name, Call
# Trace, frame and user register lines up to </TASK> are left out, once,
# stamped after the mark "testbed: tolerate once: <text>"; other lines in
# between are kept.
# The IBT probe's oops is expected (ibt_trapped): kernel lines stamped from
# the probe's own message on are left out, wherever the serial port put them
# (its output interleaves with that of /init).
kernel_lines() {
	local tolerated stacks
	tolerated=$(sed -e 's/^[[:space:]]*#.*//' "$TB_DIR/known-bad.list" |
		awk -v v="$2" -v k="$3" '($1 == v || $1 == "any" || $1 == v "/" k || $1 == "any/" k) &&
			$2 ~ /^warning:/ { print substr($2, 9) }')
	stacks=$(sed -e 's/^[[:space:]]*#.*//' "$TB_DIR/known-bad.list" |
		awk -v v="$2" -v k="$3" '($1 == v || $1 == "any" || $1 == v "/" k || $1 == "any/" k) &&
			$2 ~ /^stack:.*@after:/ { s = substr($2, 7); sub(/@after:.*/, "", s); print s }')
	# (first pass: the marks' kernel timestamps, from every line, as the
	# serial port may have put a test's own output before them)
	awk -v pats="$tolerated" -v stks="$stacks" -v tp="$4" '
	BEGIN {
		n = split(pats, P, "\n")
		for (i = 1; i <= n; i++) if (P[i] ~ /@after:/) { A[i] = 1; sub(/@after:.*/, "", P[i]) }
		ns = split(stks, S, "\n")
	}
	FNR == NR {
		for (i = 1; i <= n; i++)
			if (A[i] && !(i in TM) && match($0, "\\[ *[0-9]+\\.[0-9]+\\] testbed: tolerate once: " P[i])) {
				m = substr($0, RSTART + 1); sub(/\].*/, "", m); TM[i] = m + 0
			}
		for (j = 1; j <= ns; j++)
			if (S[j] != "" && !(j in SM) && (p = index($0, "] testbed: tolerate once: " S[j])) &&
			    match(substr($0, 1, p), /\[ *[0-9]+\.[0-9]+\]$/)) {
				m = substr($0, RSTART + 1); sub(/\].*/, "", m); SM[j] = m + 0
			}
		next
	}
	!inb && !ins {
		for (j = 1; j <= ns; j++) {
			if (S[j] == "" || !index($0, S[j]) || $0 ~ /testbed: tolerate once: / ||
			    !match($0, /\[ *[0-9]+\.[0-9]+\]/))
				continue
			key = substr($0, RSTART); t = substr($0, RSTART + 1, RLENGTH - 2) + 0
			# once, stamped after the mark; the dmesg dump repeats it
			if (key in sdone) ins = 1
			else if ((j in SM) && !(j in sused) && t >= SM[j]) {
				ins = 1; sused[j] = 1; sdone[key] = 1
				print "TOLERATED: " S[j]
			}
		}
		if (ins) next
	}
	ins {
		if ($0 ~ /\] (CPU: |Hardware name: |Call Trace:| *<TASK>| *\?? *[^ ]+\+0x[0-9a-f]+\/0x[0-9a-f]+)/ ||
		    $0 ~ /\] (RIP|Code|RSP|RAX|RDX|RBP|R10|R13): /) next
		if ($0 ~ /\] *<\/TASK>/) { ins = 0; next }
	}
	/^#/ { next }
	/^TESTBED: start/ { started = 1 }
	tp != "" {
		l = $0; late = 0
		while (match(l, /\[ *[0-9]+\.[0-9]+\]/)) {
			t = substr(l, RSTART + 1, RLENGTH - 2) + 0
			if (t >= tp + 0) late = 1
			l = substr(l, RSTART + RLENGTH)
		}
		if (late) next
	}
	!inb && (/-+\[ cut here \]-+/ || /WARNING:/) { inb = 1; blk = ""; ok = 0 }
	inb {
		blk = blk $0 "\n"
		if ($0 ~ /WARNING:/) {
			key = ""
			if (match($0, /\[ *[0-9]+\.[0-9]+\] WARNING:.*/)) key = substr($0, RSTART, RLENGTH)
			for (i = 1; i <= n; i++) {
				if (P[i] == "" || !index($0, P[i])) continue
				if (A[i]) {
					# once, stamped after the mark; the dmesg dump repeats it
					t = key; sub(/^\[ */, "", t); t += 0
					if (key != "" && (key in early)) ok = P[i]
					else if ((i in TM) && !(i in used) && key != "" && t >= TM[i]) {
						ok = P[i]; used[i] = 1; early[key] = 1
						# it taints the kernel (W) during the plan
						print "TOLERATED-IN-PLAN: " P[i]
					}
				} else if (!started) { ok = P[i]; if (key != "") early[key] = 1 }
				else if (key != "" && (key in early)) ok = P[i]
			}
		}
		if ($0 ~ /---\[ end trace/) { inb = 0; if (ok) print "TOLERATED: " ok; else printf "%s", blk }
		next
	}
	{ print }
	END { if (inb && !ok) printf "%s", blk }' "$1" "$1"
}
