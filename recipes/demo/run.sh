#!/usr/bin/env bash
# The demo (`make demo`): on the built-in corpus (LJSpeech transcripts read by the flite voice slt), the controlled
# comparison of every decoder family on a CPU. The `prior` run is trained first as the shared spine (text encoder
# and duration predictor), `tts-gen align` stores its durations once, and every other family trains its decoder
# alone on that frozen spine with the same budget; each family is then evaluated on held-out test sentences through
# the same vocoder (Griffin-Lim, which needs no training), its learning curve scored, and the report compares them;
# from the medium budget on, each family's temperature is also chosen on the validation split.
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

# Each budget: utterances of the built-in corpus, spine steps, the decoders' budget (the same for every family:
# optimizer steps, or minutes of training on this machine), the checkpoints kept for the learning curves, test
# sentences evaluated, the temperatures each family chooses from on the validation split, and the network
# evaluations swept for the iterative families. Every sentence recognized costs about a second on 2 CPU cores, so the
# short budget (about 25 minutes) evaluates 30 test sentences at each family's configured temperature; the medium
# budget gives every family the same minutes, evaluates 53 sentences and adds the operating-point choice and the NFE
# sweep (on the first 20 sentences: the recognizer is slowest on the noise of 2 evaluations).
choose=temperature=0,0.3,0.667
nfe_utts=""
case "$budget" in
    short) utts=1400; spine=1000; budget_args=(--steps 300 --curve-every 150); eval_utts=30; choose=""; nfe="" ;;
    medium) utts=1400; spine=1000; budget_args=(--steps "" --minutes 4 --curve-minutes 1); eval_utts=53; nfe=2,4,10; nfe_utts=20 ;;
    long) utts=3000; spine=6000; budget_args=(--steps 5000 --curve-every 1000); eval_utts=100; nfe=2,4,10,32; nfe_utts=50 ;;
    *) echo "--budget must be short, medium or long" >&2; exit 2 ;;
esac

started=$(date +%s)
recipes/ljspeech/run.sh --corpus ljflite --max-utts "$utts" --configs egs/demo --exp "exp/demo-$budget" \
    --protocol shared --spine-steps "$spine" "${budget_args[@]}" --skip 3,4,5 \
    --eval-vocoder griffin-lim --eval-utts "$eval_utts" ${choose:+--choose "$choose"} \
    ${nfe:+--nfe "$nfe"} ${nfe_utts:+--nfe-utts "$nfe_utts"} \
    --eval-skip "dnsmos world diversity robustness" "${passthrough[@]}"
echo "demo finished in $(( ($(date +%s) - started) / 60 )) minutes; report: exp/demo-$budget/report/report.html"
