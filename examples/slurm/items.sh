# Sourced by the job scripts: the work items of a job-array task, and the outputs' order.
# Items are numbered 0..M-1: one input file gives M = ISOTROPY_TASKS row ranges of it; several
# files give one item per file.

# The input files, one per line, blank lines and comments left out.
isotropy_inputs() {
  grep -v -e '^[[:space:]]*$' -e '^[[:space:]]*#' "$ISOTROPY_INPUTS"
}

# How many items there are.
isotropy_item_count() {
  local n
  n=$(isotropy_inputs | wc -l)
  if [ "$n" -eq 1 ]; then echo "$ISOTROPY_TASKS"; else echo "$n"; fi
}

# Runs `isotropy stats` on every item of task $1 (K, K + TASKS, ...), writing PREFIX_ITEM.json
# into the work folder; further arguments go to isotropy stats.
isotropy_map() {
  local task=$1 prefix=$2
  shift 2
  local -a files cmd read_flags
  mapfile -t files < <(isotropy_inputs)
  read -r -a cmd <<< "$ISOTROPY"
  read -r -a read_flags <<< "$ISOTROPY_READ_FLAGS"
  local count item
  count=$(isotropy_item_count)
  for ((item = task; item < count; item += ISOTROPY_TASKS)); do
    if [ "${#files[@]}" -eq 1 ]; then
      "${cmd[@]}" stats "${files[0]}" --shard "$item/$count" "${read_flags[@]}" "$@" --out "$ISOTROPY_WORK/${prefix}_$item.json"
    else
      "${cmd[@]}" stats "${files[$item]}" "${read_flags[@]}" "$@" --out "$ISOTROPY_WORK/${prefix}_$item.json"
    fi
  done
}

# The outputs PREFIX_0.json ... PREFIX_{M-1}.json, in item order (a glob would put 10 before 2).
isotropy_outputs() {
  local prefix=$1 count item
  count=$(isotropy_item_count)
  for ((item = 0; item < count; item++)); do echo "$ISOTROPY_WORK/${prefix}_$item.json"; done
}

# Threads: what SLURM gave the task, not the whole node.
export OPENBLAS_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
ISOTROPY_THREADS=(--threads "${SLURM_CPUS_PER_TASK:-1}")
