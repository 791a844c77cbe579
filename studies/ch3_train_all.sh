#!/usr/bin/env bash
# Every model of chapter 3's full profile, trained ahead of `make full CHAPTER=03_l2_autoencoder` in two
# lanes, one per core (about 8 h each on this project's 2-core CPU):
#
#     nohup studies/ch3_train_all.sh 1 > /dev/null 2>&1 &
#     nohup studies/ch3_train_all.sh 2 > /dev/null 2>&1 &
#
# Each job is a study run under the chapter's checkpoint keys (ch3_paper_budget.py: Tables I-III and
# Fashion-MNIST; ch3_anomaly_models.py: the clean reading and the one-class protocol). A job whose
# results file exists is skipped, and one that another process is running (its lock is held) too, so
# after an interruption the same two commands go on where training stopped: an unfinished model
# resumes from its last epoch. Results, logs and `lane<N>.txt` (start/end of each job) are in
# $CH3_RUN_DIR; checkpoints in $DCCA_CHECKPOINT_DIR, which `make full` must be given as well. Merge the
# Table I-III rows into the study file with `ch3_paper_budget.py --merge $CH3_RUN_DIR/budget_*.json`.
set -u
lane=${1:?usage: ch3_train_all.sh 1|2}
cd "$(dirname "$0")/.."
export DCCA_CHECKPOINT_DIR=${DCCA_CHECKPOINT_DIR:-$HOME/dcca-checkpoints}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
runs=${CH3_RUN_DIR:-$HOME/ch3-runs}
python=${PYTHON:-.venv/bin/python}
mkdir -p "$runs"

# budget DATA ARCH NORM SEED EPOCHS PRECISION | anomaly PROTOCOL SEED DIGITS; headline models first
case $lane in
  1) jobs=(
    "budget mnist dense l2 0 100 fp32" "budget mnist dense none 0 100 fp32" "budget mnist dense l2 1 100 fp32"
    "budget mnist dense none 2 100 fp32" "budget mnist dense l2 2 100 fp32" "budget mnist dense none 1 100 fp32"
    "budget mnist conv l2 0 200 bf16" "budget mnist conv none 0 200 bf16" "budget mnist conv batch 0 200 bf16"
    "anomaly one_class 0 0,1,2,3,4,5,6,7,8,9" "anomaly one_class 1 0,1,2,3,4,5,6,7,8,9"
    "anomaly clean 0 0,1,2,3,4" "budget fashion conv none 0 200 bf16") ;;
  2) jobs=(
    "budget mnist conv l2 1 200 bf16" "budget mnist conv none 1 200 bf16" "budget mnist conv none 2 200 bf16"
    "budget mnist conv l2 2 200 bf16" "budget mnist conv layer 0 200 bf16"
    "anomaly one_class 2 0,1,2,3,4,5,6,7,8,9" "anomaly clean 0 5,6,7,8,9" "budget fashion conv l2 0 200 bf16") ;;
  *) echo "lane must be 1 or 2, got $lane" >&2; exit 2 ;;
esac

for job in "${jobs[@]}"; do
  set -- $job
  if [ "$1" = budget ]; then
    name="budget_$2_$3_$4_s$5_$7"
    cmd=(studies/ch3_paper_budget.py --data "$2" --arch "$3" --norm "$4" --seed "$5" --epochs "$6" --precision "$7")
  else
    name="anomaly_$2_s$3_d${4//,/}"
    cmd=(studies/ch3_anomaly_models.py --protocol "$2" --seed "$3" --digits "$4")
  fi
  [ -e "$runs/$name.json" ] && continue
  (
    flock -n 9 || { echo "$(date -u +%FT%TZ) busy $name (another process runs it)" >> "$runs/lane$lane.txt"; exit 0; }
    echo "$(date -u +%FT%TZ) start $name" >> "$runs/lane$lane.txt"
    nice -n 10 "$python" "${cmd[@]}" --out "$runs/$name.json" >> "$runs/$name.log" 2>&1
    echo "$(date -u +%FT%TZ) end rc=$? $name" >> "$runs/lane$lane.txt"
  ) 9> "$runs/$name.lock"
done
