#!/usr/bin/env bash
# The demo: the built-in corpus (LJSpeech transcripts read by the flite voice slt), a CPU-size model, and
# synthesized held-out sentences. Every stage is one tts-gen command; finished work is reused on a rerun.
set -euo pipefail
cd "$(dirname "$0")/../.."

TTS=${TTS:-.venv/bin/tts-gen}
MAX_UTTS=${MAX_UTTS:-400}
STEPS=${STEPS:-1500}
DATA=data/demo
EXP=exp/demo

echo "== building the built-in corpus ($MAX_UTTS utterances)"
$TTS data make-ljflite --out "$DATA/corpus" --max-utts "$MAX_UTTS"
echo "== preparing manifests and features"
$TTS data prepare --corpus ljflite --root "$DATA/corpus" --out "$DATA/prepared"
echo "== training the flow model ($STEPS steps on the CPU)"
$TTS train egs/demo/flow.yaml --data "$DATA/prepared" --out "$EXP/flow" --set train.max_steps="$STEPS"
echo "== synthesizing held-out sentences"
$TTS synth --checkpoint "$EXP/flow" --text-file recipes/demo/held_out.txt --out "$EXP/flow/samples"
echo "the demo's audio is in $EXP/flow/samples"
