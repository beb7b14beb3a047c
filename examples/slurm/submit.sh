#!/usr/bin/env bash
# Submits a two-round isotropy analysis as a chain of SLURM jobs:
#   round 1 (job array)  isotropy stats ITEM --out WORK/s_K.json
#   reduce 1             isotropy merge WORK/s_*.json --plan WORK/plan.json
#   round 2 (job array)  isotropy stats ITEM --plan WORK/plan.json --out WORK/p_K.json
#   reduce 2             isotropy merge --plan WORK/plan.json WORK/p_*.json --json --out WORK/report.html
# each step starting only when the one before it succeeded (--dependency=afterok).
#
# Usage: submit.sh INPUT_LIST TASKS WORKDIR [TRANSFORMS]
#   INPUT_LIST  a text file with one .npy path per line. One file is cut into TASKS row ranges
#               (--shard K/TASKS); several files are shards themselves, task K taking files
#               K, K + TASKS, K + 2 TASKS, ...
#   TASKS       job-array size of each round
#   WORKDIR     where the shards' statistics, the plan, the partials, the analysis
#               (analysis.json), the report (report.html) and the logs (logs/) go; on a file
#               system every node sees
#   TRANSFORMS  as for isotropy analyze --transform (default isobn)
# Environment: ISOTROPY (the command, default "isotropy"; e.g. "npx isotropy" or
# "node /path/to/isotropy/dist/cli/main.js"), ISOTROPY_READ_FLAGS (flags for reading the rows in
# both rounds, e.g. "--layer 12 --drop-nonfinite"), SBATCH_FLAGS (e.g. "--partition=cpu
# --account=lab --time=01:00:00"). Prints the id of the last job; its output is
# WORKDIR/analysis.json.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
inputs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tasks=$2
mkdir -p "$3/logs"
work=$(cd "$3" && pwd)
[ -s "$inputs" ] || { echo "submit.sh: $1 lists no input files" >&2; exit 2; }
[[ "$tasks" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: TASKS must be a positive whole number, got '$tasks'" >&2; exit 2; }

# The job scripts find their helpers and settings through these (sbatch exports the environment).
export ISOTROPY_SLURM_DIR=$here ISOTROPY_INPUTS=$inputs ISOTROPY_TASKS=$tasks ISOTROPY_WORK=$work
export ISOTROPY_TRANSFORMS=${4:-isobn} ISOTROPY=${ISOTROPY:-isotropy} ISOTROPY_READ_FLAGS=${ISOTROPY_READ_FLAGS:-}
read -r -a extra <<< "${SBATCH_FLAGS:-}"
log=(--output="$work/logs/%x-%A_%a.out")
last=$((tasks - 1))

r1=$(sbatch --parsable "${extra[@]}" "${log[@]}" --array="0-$last" "$here/round1.sbatch")
m1=$(sbatch --parsable "${extra[@]}" "${log[@]}" --dependency="afterok:${r1%%;*}" "$here/reduce1.sbatch")
r2=$(sbatch --parsable "${extra[@]}" "${log[@]}" --dependency="afterok:${m1%%;*}" --array="0-$last" "$here/round2.sbatch")
m2=$(sbatch --parsable "${extra[@]}" "${log[@]}" --dependency="afterok:${r2%%;*}" "$here/reduce2.sbatch")
echo "submitted: round 1 ${r1%%;*}, reduce 1 ${m1%%;*}, round 2 ${r2%%;*}, reduce 2 ${m2%%;*}" >&2
echo "${m2%%;*}"
