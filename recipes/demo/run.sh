#!/usr/bin/env bash
# The demo (`make demo`): on the built-in corpus (LJSpeech transcripts read by the flite voice slt), train a
# CPU-size model of every decoder family and a small vocoder, synthesize held-out sentences with each family,
# and write the comparison report. Every family starts from the encoder of the `prior` run (trained first), so
# that a few minutes per family are enough to hear speech; --budget long trains every family further.
#
#   recipes/demo/run.sh [--budget short|medium|long] [--force] [other recipes/ljspeech/run.sh options]
set -euo pipefail
cd "$(dirname "$0")/../.."

budget=short
passthrough=()
while [ $# -gt 0 ]; do
    case "$1" in
        --budget) budget=$2; shift ;;
        *) passthrough+=("$1") ;;
    esac
    shift
done

case "$budget" in
    # short: the max_steps of each egs/demo config (about two minutes per family, 25 minutes in all); a vocoder
    # trained that briefly still buzzes, so the short demo is heard through Griffin-Lim
    short) steps=(--eval-vocoder griffin-lim) ;;
    medium) steps=(--steps 1000 --vocoder-steps 3000) ;;
    long) steps=(--steps 5000 --vocoder-steps 20000) ;;
    *) echo "--budget must be short, medium or long" >&2; exit 2 ;;
esac

started=$(date +%s)
recipes/ljspeech/run.sh --corpus ljflite --max-utts 400 --configs egs/demo --exp "exp/demo-$budget" \
    --warm-start prior --skip 4,5 --eval-utts 6 --eval-skip "dnsmos world diversity robustness copy-synthesis" \
    "${steps[@]}" "${passthrough[@]}"
echo "demo finished in $(( ($(date +%s) - started) / 60 )) minutes; report: exp/demo-$budget/report/report.html"
