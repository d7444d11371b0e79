# Sourced by the e2e resume tests (train_cli, full_finetune_cli, train_distributed,
# train_semi_online_resume_slow); needs $cli and fail(). Not a test itself: ctest takes e2e/*.sh.

# stop_after_first_checkpoint FINAL OUT TRAIN_ARGS...: starts `train --out OUT TRAIN_ARGS...`
# (its errors in OUT.err), stops it by SIGTERM once its first checkpoint is written, and checks
# that it exited 0 before writing OUT/FINAL, its final adapter or model.
stop_after_first_checkpoint() {
  local final=$1 out=$2
  shift 2
  "$cli" --quiet train --out "$out" "$@" >/dev/null 2>"$out.err" &
  local pid=$!
  for _ in $(seq 1 2400); do
    grep -q '"type":"checkpoint"' "$out/events.jsonl" 2>/dev/null && break
    sleep 0.05
  done
  kill -TERM $pid
  wait $pid || fail "a stopped run should exit 0: $(tail -3 "$out.err")"
  [[ -e "$out/$final" ]] && fail "$out: the run finished before the stop (it wrote $final; make the run longer)"
}
