#!/usr/bin/env bash
# The sharded analysis on a real SLURM cluster: installs Debian's slurm-wlm and munge, starts a
# one-node cluster on this machine (munged, slurmctld, slurmd, all in a temp folder, on free
# ports), submits examples/slurm/submit.sh for a 4-shard two-round analysis of a generated file,
# waits for the chain of jobs, compares the merged analysis with `isotropy analyze` on the whole
# file (every metric to 1e-10 relative), and stops the daemons it started, also on failure.
#
# Run by .ci/run after npm test (needs dist/, built by npm test). Skipped, with a message, where
# it cannot install packages (not root, or no apt-get). SLURM_TEST_TIMEOUT (default 150 s)
# bounds the wait for the jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$SECONDS
say() { echo "slurm-test: $*"; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "skipped: installing slurm-wlm and munge needs root and apt-get"
  exit 0
fi
[ -f dist/cli/main.js ] || { say "dist/ is missing: run npm run build (or npm test) first"; exit 1; }

export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt_opts=(-qq -o DPkg::Lock::Timeout=300)
  apt-get "${apt_opts[@]}" install -y --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get "${apt_opts[@]}" update >/dev/null && apt-get "${apt_opts[@]}" install -y --no-install-recommends slurm-wlm munge >/dev/null; }
fi
say "slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm), munge $(dpkg-query -W -f='${Version}' munge) ($((SECONDS - started)) s)"

work=$(mktemp -d /tmp/isotropy-slurm.XXXXXX)
chmod 755 "$work"   # munged runs as the munge user and must reach its folder
# munged wants its socket's folder open to all (x) and its key's folder closed to others
mkdir -p "$work"/{munge,munge-key,slurm/state,slurm/spool,out}
chown munge:munge "$work/munge" "$work/munge-key"
chmod 755 "$work/munge"
chmod 700 "$work/munge-key"
export SLURM_CONF=$work/slurm/slurm.conf
jobs_submitted=()
ok=0

# Stops what this script started, by the ids in their pid files, and removes the temp folder.
cleanup() {
  set +e
  if [ ${#jobs_submitted[@]} -gt 0 ] && [ "$ok" = 0 ]; then scancel "${jobs_submitted[@]}" >/dev/null 2>&1; sleep 1; fi
  for pidfile in "$work/slurm/slurmd.pid" "$work/slurm/slurmctld.pid" "$work/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  done
  if [ "$ok" = 0 ]; then
    say "FAILED after $((SECONDS - started)) s; logs:"
    for f in "$work"/slurm/*.log "$work"/out/logs/* "$work"/munge/munged.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# munge: a fresh key, its own socket, run as the munge user.
key=$work/munge-key/munge.key
mungekey --create --keyfile "$key" >/dev/null 2>&1 || dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null
chown munge:munge "$key"
chmod 400 "$key"
runuser -u munge -- munged --socket="$work/munge/munge.socket" --key-file="$key" \
  --log-file="$work/munge/munged.log" --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed"

host=$(hostname)
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
cat > "$SLURM_CONF" <<CONF
ClusterName=isotropy-test
SlurmctldHost=$host
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerParameters=sched_min_interval=0,kill_invalid_depend
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/slurmctld.log
SlurmdLogFile=$work/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=isotropy Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld
slurmd
for _ in $(seq 60); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 0.5
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || { say "the node did not come up: $(sinfo -h 2>&1)"; exit 1; }
say "one-node cluster up: $host, $(nproc) CPUs ($((SECONDS - started)) s)"

# A generated file, analyzed in 4 shards by the example job scripts.
node --input-type=module -e "
  import { writeNpy } from '$root/dist/index.js';
  const n = 6000, d = 32;
  let a = 12345;
  const rand = () => { a = (a * 1103515245 + 12345) % 2147483648; return a / 2147483648; };
  const mix = Float64Array.from({ length: d * d }, () => rand() - 0.5);
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) {
    let s = 1 + j / d;
    for (let i = 0; i < d; i++) s += (rand() - 0.5) * (0.2 + i / d) * mix[i * d + j];
    x[r * d + j] = s;
  }
  await writeNpy('$work/emb.npy', x, n, d);
"
echo "$work/emb.npy" > "$work/inputs.txt"
transforms=isobn,isobn-running,standardize,abtt
last=$(ISOTROPY="node $root/dist/cli/main.js" examples/slurm/submit.sh "$work/inputs.txt" 4 "$work/out" "$transforms")
mapfile -t jobs_submitted < <(squeue -h -o %F | sort -u)
jobs_submitted+=("$last")

deadline=$((SECONDS + ${SLURM_TEST_TIMEOUT:-150}))
state=
while [ $SECONDS -lt $deadline ]; do
  state=$(scontrol show job -o "$last" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  reason=$(scontrol show job -o "$last" 2>/dev/null | grep -o 'Reason=[A-Za-z_]*' | cut -d= -f2)
  case "$state" in
    COMPLETED) break ;;
    FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) say "the last job ended $state"; exit 1 ;;
  esac
  if [ "$reason" = DependencyNeverSatisfied ] || squeue -h -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    say "a job of the chain failed, so the jobs after it can never run"
    exit 1
  fi
  sleep 1
done
[ "$state" = COMPLETED ] || { say "timed out after ${SLURM_TEST_TIMEOUT:-150} s waiting for job $last (state ${state:-unknown})"; exit 1; }
say "the four job steps ran: $(ls "$work/out" | grep -c '^s_') statistics, $(ls "$work/out" | grep -c '^p_') partials, report $(test -s "$work/out/report.html" && echo written) ($((SECONDS - started)) s)"

node dist/cli/main.js analyze "$work/emb.npy" --transform "$transforms" --json --no-report -q > "$work/whole.json"
node --import tsx scripts/compare-analyses.ts "$work/out/analysis.json" "$work/whole.json" 1e-10
ok=1
say "passed in $((SECONDS - started)) s"
