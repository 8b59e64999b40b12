#!/usr/bin/env bash
# tts_gen recipe: LJSpeech (or the built-in ljflite corpus) from raw files to trained, evaluated and compared
# decoder families. Every stage is one or more `tts-gen` commands, logged to $EXP/cmd.log; a finished stage
# (per family where it applies) is skipped on a rerun unless --force is given.
#
#   0  corpus: download and verify LJSpeech (or build ljflite)   4  fine-tune the vocoder on each family's mels
#   1  prepare manifests and features                             5  synthesize the test sentences
#   2  train the acoustic models (one per family)                 6  evaluate every family
#   3  train the vocoder                                          7  compare the families (report)
set -euo pipefail
cd "$(dirname "$0")/../.."

corpus=ljspeech         # ljspeech | ljflite
data_dir=""             # an LJSpeech-1.1 folder already on disk (skips the download)
configs=egs/ljspeech    # egs/ljspeech (GPU size) | egs/demo (CPU size)
families=all            # comma-separated, or all
vocoder_config=""       # default: $configs/hifigan_v1.yaml, or $configs/hifigan.yaml
exp=""                  # default: exp/<corpus>
data_root=data          # where corpora and prepared data go
stage=0
stop_stage=7
skip=""                 # comma-separated stages not to run (e.g. 4)
max_utts=""             # ljflite: build only a subset of this many utterances
steps=""                # override train.max_steps of the acoustic models
warm_start=""           # a family trained first whose encoder starts every other family (e.g. prior)
vocoder_steps=""        # override train.max_steps of the vocoder
finetune_steps=1000     # vocoder fine-tuning steps on decoder output
eval_utts=""            # evaluate only the first N test utterances
eval_vocoder=trained    # trained | griffin-lim: the vocoder of stages 5-6
eval_skip=""            # metric groups `tts-gen evaluate --skip` leaves out
ngpu=1
device=auto
force=false
TTS=${TTS:-tts-gen}
[ -x .venv/bin/tts-gen ] && [ "$TTS" = tts-gen ] && TTS=.venv/bin/tts-gen

usage() {
    sed -n '2,10p' "$0"
    cat <<EOF
options: --corpus ljspeech|ljflite --data-dir DIR --configs egs/ljspeech|egs/demo --families LIST|all
         --vocoder-config YAML --exp DIR --data-root DIR --stage N --stop-stage N --skip LIST --max-utts N --steps N
         --warm-start FAMILY --vocoder-steps N --finetune-steps N --eval-utts N --eval-vocoder trained|griffin-lim
         --eval-skip "GROUPS" --ngpu N --device auto|cpu|cuda --force
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --corpus) corpus=$2; shift ;;
        --data-dir) data_dir=$2; shift ;;
        --configs) configs=$2; shift ;;
        --families) families=$2; shift ;;
        --vocoder-config) vocoder_config=$2; shift ;;
        --exp) exp=$2; shift ;;
        --data-root) data_root=$2; shift ;;
        --stage) stage=$2; shift ;;
        --stop-stage) stop_stage=$2; shift ;;
        --skip) skip=$2; shift ;;
        --max-utts) max_utts=$2; shift ;;
        --steps) steps=$2; shift ;;
        --warm-start) warm_start=$2; shift ;;
        --vocoder-steps) vocoder_steps=$2; shift ;;
        --finetune-steps) finetune_steps=$2; shift ;;
        --eval-utts) eval_utts=$2; shift ;;
        --eval-vocoder) eval_vocoder=$2; shift ;;
        --eval-skip) eval_skip=$2; shift ;;
        --ngpu) ngpu=$2; shift ;;
        --device) device=$2; shift ;;
        --force) force=true ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

case "$corpus" in ljspeech|ljflite) ;; *) echo "--corpus must be ljspeech or ljflite" >&2; exit 2 ;; esac
exp=${exp:-exp/$corpus}
corpus_dir=${data_dir:-$data_root/$corpus/corpus}
[ "$corpus" = ljspeech ] && [ -z "$data_dir" ] && corpus_dir=$data_root/ljspeech/LJSpeech-1.1
prepared=$data_root/$corpus/prepared
if [ -n "$max_utts" ]; then
    prepared=$data_root/$corpus/prepared-$max_utts
    [ -z "$data_dir" ] && corpus_dir=$data_root/$corpus/corpus-$max_utts
fi
if [ "$families" = all ]; then
    families=$(find "$configs" -maxdepth 1 -name '*.yaml' ! -name 'hifigan*' -printf '%f\n' | sed 's/\.yaml$//' | sort | paste -sd, -)
fi
if [ -z "$vocoder_config" ]; then
    vocoder_config=$configs/hifigan_v1.yaml
    [ -f "$vocoder_config" ] || vocoder_config=$configs/hifigan.yaml
fi
IFS=, read -r -a family_list <<< "$families"
# the warm-start family trains first
if [ -n "$warm_start" ]; then
    ordered=("$warm_start")
    for family in "${family_list[@]}"; do [ "$family" = "$warm_start" ] || ordered+=("$family"); done
    family_list=("${ordered[@]}")
fi
mkdir -p "$exp/.done"

# run_step NAME COMMAND...: runs a command once (a stamp in $EXP/.done marks it finished), logging it.
run_step() {
    local name=$1
    shift
    if [ -f "$exp/.done/$name" ] && [ "$force" = false ]; then
        echo "-- $name: done before, skipped (--force reruns it)"
        return 0
    fi
    echo "-- $name: $*"
    echo "$(date '+%F %T') [$name] $*" >> "$exp/cmd.log"
    "$@"
    touch "$exp/.done/$name"
}

in_stage() {
    [ "$1" -ge "$stage" ] && [ "$1" -le "$stop_stage" ] && [[ ",$skip," != *",$1,"* ]]
}

train_command() {
    if [ "$ngpu" -gt 1 ]; then
        local torchrun=torchrun
        [ -x "$(dirname "$(command -v "$TTS")")/torchrun" ] && torchrun=$(dirname "$(command -v "$TTS")")/torchrun
        echo "$torchrun --standalone --nproc_per_node $ngpu -m tts_gen.cli"
    else
        echo "$TTS"
    fi
}

vocoder_for() {  # the vocoder stages 5-6 use for one family
    if [ "$eval_vocoder" = griffin-lim ]; then
        echo griffin-lim
    elif [ -d "$exp/vocoder-$1/checkpoints" ]; then
        echo "$exp/vocoder-$1"
    else
        echo "$exp/vocoder"
    fi
}

echo "== corpus $corpus, configs $configs, families ${family_list[*]}, experiments in $exp"

if in_stage 0; then
    echo "== stage 0: corpus"
    if [ "$corpus" = ljflite ]; then
        run_step stage0 $TTS data make-ljflite --out "$corpus_dir" ${max_utts:+--max-utts "$max_utts"}
    elif [ -z "$data_dir" ]; then
        run_step stage0 $TTS data download ljspeech --out "$data_root/ljspeech"
    fi
fi

if in_stage 1; then
    echo "== stage 1: manifests and features"
    run_step stage1 $TTS data prepare --corpus "$corpus" --root "$corpus_dir" --out "$prepared" --config "$configs/${family_list[0]}.yaml"
fi

if in_stage 2; then
    echo "== stage 2: acoustic models"
    for family in "${family_list[@]}"; do
        overrides=()
        [ -n "$steps" ] && overrides+=("train.max_steps=$steps")
        [ -n "$warm_start" ] && [ "$family" != "$warm_start" ] && overrides+=("train.init_from=$exp/$warm_start" "train.init_modules=[encoder]")
        run_step "stage2.$family" $(train_command) train "$configs/$family.yaml" --data "$prepared" --out "$exp/$family" \
            --device "$device" ${overrides[@]:+--set "${overrides[@]}"}
    done
fi

if in_stage 3; then
    echo "== stage 3: vocoder"
    run_step stage3 $(train_command) train-vocoder "$vocoder_config" --data "$prepared" --out "$exp/vocoder" \
        --device "$device" ${vocoder_steps:+--set "train.max_steps=$vocoder_steps"}
fi

if in_stage 4; then
    echo "== stage 4: vocoder fine-tuning on each family's teacher-forced mels"
    for family in "${family_list[@]}"; do
        run_step "stage4.$family.mels" $TTS dump-mels --checkpoint "$exp/$family" --data "$prepared" --out "$exp/$family/mels" --device "$device"
        run_step "stage4.$family.vocoder" $(train_command) train-vocoder "$vocoder_config" --data "$prepared" \
            --out "$exp/vocoder-$family" --device "$device" \
            --set "data.mels_dir=$exp/$family/mels" "train.init_from=$exp/vocoder" "train.max_steps=$finetune_steps"
    done
fi

if in_stage 5; then
    echo "== stage 5: test sentences"
    for family in "${family_list[@]}"; do
        run_step "stage5.$family" $TTS synth --checkpoint "$exp/$family" --text-file "$prepared/test.txt" \
            --out "$exp/$family/test_wavs" --vocoder "$(vocoder_for "$family")" --device "$device"
    done
fi

if in_stage 6; then
    echo "== stage 6: evaluation"
    for family in "${family_list[@]}"; do
        run_step "stage6.$family" $TTS evaluate --checkpoint "$exp/$family" --data "$prepared" --split test \
            --out "$exp/$family/eval" --vocoder "$(vocoder_for "$family")" --device "$device" \
            ${eval_utts:+--max-utts "$eval_utts"} ${eval_skip:+--skip $eval_skip}
    done
fi

if in_stage 7; then
    echo "== stage 7: comparison report"
    evals=()
    for family in "${family_list[@]}"; do evals+=("$exp/$family/eval"); done
    run_step stage7 $TTS compare "${evals[@]}" --out "$exp/report" --title "tts_gen: decoder families on $corpus"
    echo "the report is $exp/report/report.html (and report.md)"
fi
