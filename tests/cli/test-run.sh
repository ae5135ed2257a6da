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
echo "1..12"

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

[ $fails -eq 0 ]
