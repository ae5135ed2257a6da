#!/bin/sh
# xraylab-cli end to end on a tiny synthetic set: synth, stats, train, eval,
# plots, and the exit statuses of bad input. TAP output.
set -u
cli=${XL_CLI:?XL_CLI must name xraylab-cli}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok () {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
echo "1..16"

"$cli" synth --out "$tmp/data" --per-class 12 --size 72 --seed 2 >/dev/null 2>&1
ok $? "synth writes a data set"
"$cli" stats --data "$tmp/data" > "$tmp/stats.txt" 2>&1
grep -q PNEUMONIA "$tmp/stats.txt"
ok $? "stats lists the classes"

"$cli" train --data "$tmp/data" --out "$tmp/run" --width 8 --input-size 64 --resize 72 \
  --batch-size 8 --epochs 2 --val-fraction 0 --quiet > "$tmp/train.txt" 2>&1
ok $? "train exits 0"
for f in model.safetensors config.json history.csv batches.csv metrics.json predictions.csv \
         log.txt report.pdf plots/loss.png plots/roc.svg plots/confusion-matrix.png; do
  [ -s "$tmp/run/$f" ] || { echo "# missing $f"; false; }
done
ok $? "the run folder has every file"
[ "$(wc -l < "$tmp/run/history.csv")" -eq 3 ]
ok $? "history.csv has a header and two epochs"

"$cli" train --data "$tmp/data" --out "$tmp/run2" --width 8 --input-size 64 --resize 72 \
  --epochs 1 --json --val-fraction 0 > "$tmp/events.txt" 2>&1
grep -q '"event":"epoch"' "$tmp/events.txt" && grep -q '"event":"finished"' "$tmp/events.txt"
ok $? "--json prints epoch and finished events"

"$cli" eval --model "$tmp/run/model.safetensors" --data "$tmp/data" --out "$tmp/eval" \
  > "$tmp/eval.txt" 2>&1 && [ -s "$tmp/eval/metrics.json" ] && [ -s "$tmp/eval/plots/roc.png" ]
ok $? "eval writes metrics and plots"

rm -rf "$tmp/run/plots" "$tmp/run/report.pdf"
"$cli" plots "$tmp/run" > /dev/null 2>&1 && [ -s "$tmp/run/plots/accuracy.png" ] \
  && [ -s "$tmp/run/report.pdf" ]
ok $? "plots redraws a run folder"

"$cli" train --data "$tmp/nowhere" --out "$tmp/run3" --quiet > "$tmp/err.txt" 2>&1
[ $? -eq 1 ] && grep -q nowhere "$tmp/err.txt"
ok $? "a missing data set exits 1 and names the path"

"$cli" train --data "$tmp/data" --out "$tmp/run4" --mode partial --freeze 9 > "$tmp/err.txt" 2>&1
[ $? -eq 2 ] && grep -q -- "--freeze must be 1 to 4" "$tmp/err.txt"
ok $? "a bad --freeze exits 2 with the range"

"$cli" eval --model "$tmp/run/config.json" --data "$tmp/data" --out "$tmp/eval2" > "$tmp/err.txt" 2>&1
[ $? -eq 1 ]
ok $? "eval of a file that is not a model exits 1"

"$cli" train --resume "$tmp/nowhere" > "$tmp/err.txt" 2>&1
[ $? -eq 1 ] && grep -q "cannot resume" "$tmp/err.txt"
ok $? "resuming a missing run exits 1"

"$cli" train --data "$tmp/data" --out "$tmp/run6" --width 8 --input-size 32 --resize 36 \
  --batch-size 4 --epochs 4 --val-fraction 0 --optimizer sgd --momentum 0.9 --lr 99 --quiet \
  > "$tmp/diverged.txt" 2>&1
[ $? -eq 1 ] && grep -Eq "loss diverged at epoch [0-9]+, batch [0-9]+: lower the learning rate" \
  "$tmp/diverged.txt"
ok $? "a diverging run exits 1 and names the epoch and the batch"

"$cli" train --data "$tmp/data" --out "$tmp/run7" --width 8 \
  --input-size 32 --resize 36 --epochs 1 --val-fraction 0 --class-weights 1 \
  > "$tmp/err.txt" 2>&1
[ $? -eq 1 ] \
  && grep -q "needs 2 weights, one per class in this order: NORMAL, PNEUMONIA; 1 were given" \
    "$tmp/err.txt"
ok $? "--class-weights with too few weights exits 1 and says how many"

# Ctrl-C: the run ends after the current batch, exits 0 and still writes the
# reports. Many epochs, so that it is still training when the signal comes.
"$cli" train --data "$tmp/data" --out "$tmp/run8" --width 8 --input-size 32 --resize 36 \
  --batch-size 4 --epochs 1000 --patience 0 --val-fraction 0 --json \
  > "$tmp/interrupted.txt" 2>&1 &
pid=$!
i=0
until grep -q '"event":"epoch"' "$tmp/interrupted.txt" 2>/dev/null || [ $i -ge 1200 ]; do
  sleep 0.1
  i=$((i + 1))
done
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 1200 ]; do
  sleep 0.1
  i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
  echo "# the run did not stop on SIGINT"
  kill -KILL "$pid"
fi
wait "$pid"
status=$?
[ $status -eq 0 ] && grep -q '"event":"finished".*"stopped":true' "$tmp/interrupted.txt" \
  && grep -q "stopping after this batch" "$tmp/interrupted.txt"
ok $? "SIGINT stops the run after the current batch and exits 0 (status $status)"
ok=0
for f in model.safetensors metrics.json predictions.csv history.csv plots/loss.png \
         plots/confusion-matrix.png; do
  [ -s "$tmp/run8/$f" ] || { echo "# missing $f after SIGINT"; ok=1; }
done
grep -q '"stopped": true' "$tmp/run8/metrics.json" 2>/dev/null || ok=1
[ "$(wc -l < "$tmp/run8/history.csv")" -lt 1000 ] || ok=1
ok $ok "an interrupted run keeps its best model and writes the reports"

[ $fails -eq 0 ]
