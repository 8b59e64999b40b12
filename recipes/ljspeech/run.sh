#!/usr/bin/env bash
# tts_gen recipe: LJSpeech (or the built-in ljflite corpus) from raw files to trained, evaluated and compared
# decoder families. Every stage is one or more `tts-gen` commands, logged to $EXP/cmd.log; a finished stage
# (per family where it applies) is skipped on a rerun unless --force is given.
#
#   0  corpus: download and verify LJSpeech (or build ljflite)   4  fine-tune the vocoder on each family's mels
#   1  prepare manifests and features                             5  synthesize the test sentences
#   2  train the acoustic models (the spine, then every family)   6  evaluate every family
#   3  train the vocoder                                          7  compare the families (report)
#
# --protocol shared (default): the prior run is trained first as the spine, `tts-gen align` stores its durations,
# and every other family trains its decoder alone on the frozen spine, with the same budget. --protocol joint:
# every family trains its own encoder, aligner and decoder, as the papers do.
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
protocol=shared         # shared: one frozen spine (the prior run) for every family; joint: each family its own
steps=""                # override train.max_steps of the acoustic models (the decoders, in the shared protocol)
minutes=""              # a wall-clock budget (train.max_minutes) for every acoustic model, instead of or with --steps
                        # (a cosine schedule then decays over the minutes)
spine_steps=""          # override train.max_steps of the spine (shared protocol; default: its config's)
curve_every=""          # keep a checkpoint every N steps and score the learning curves in stage 6
curve_minutes=""        # the same every M minutes of training (for --minutes budgets)
choose=""               # choose an option on the validation split in stage 6, e.g. temperature=0,0.3,0.667
nfe=""                  # stage 6 also sweeps network evaluations of the iterative families, e.g. 2,4,10,32
nfe_utts=""             # ... on the first N evaluated test sentences only (default: all of them)
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
         --vocoder-config YAML --exp DIR --data-root DIR --stage N --stop-stage N --skip LIST --max-utts N
         --protocol shared|joint --steps N --minutes M --spine-steps N --curve-every N --curve-minutes M
         --warm-start FAMILY
         --vocoder-steps N --finetune-steps N --eval-utts N --eval-vocoder trained|griffin-lim --eval-skip "GROUPS"
         --choose OPTION=V1,V2 --nfe N1,N2 --nfe-utts N --ngpu N --device auto|cpu|cuda --force
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
        --protocol) protocol=$2; shift ;;
        --steps) steps=$2; shift ;;
        --minutes) minutes=$2; shift ;;
        --spine-steps) spine_steps=$2; shift ;;
        --curve-every) curve_every=$2; shift ;;
        --curve-minutes) curve_minutes=$2; shift ;;
        --choose) choose=$2; shift ;;
        --nfe) nfe=$2; shift ;;
        --nfe-utts) nfe_utts=$2; shift ;;
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
case "$protocol" in shared|joint) ;; *) echo "--protocol must be shared or joint" >&2; exit 2 ;; esac
# the shared protocol trains the spine (the prior run) first; --warm-start does the same for the joint protocol
[ "$protocol" = shared ] && warm_start=prior
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
    echo "== stage 2: acoustic models ($protocol protocol)"
    for family in "${family_list[@]}"; do
        overrides=()
        if [ "$protocol" = shared ] && [ "$family" = prior ]; then
            [ -n "$spine_steps" ] && overrides+=("train.max_steps=$spine_steps")
        else
            if [ -n "$steps" ]; then
                overrides+=("train.max_steps=$steps")
            elif [ -n "$minutes" ]; then
                overrides+=("train.max_steps=0")  # no step limit: the minutes alone end the run
            fi
            [ -n "$minutes" ] && overrides+=("train.max_minutes=$minutes")
            [ -n "$curve_every" ] && overrides+=("train.checkpoint_every=$curve_every" "train.keep_every=$curve_every")
            # the clock's checkpoints, and of the others only the newest (to resume from)
            [ -n "$curve_minutes" ] && overrides+=("train.keep_every_minutes=$curve_minutes" "train.keep_last=1")
        fi
        if [ "$protocol" = shared ] && [ "$family" != prior ]; then
            overrides+=("spine=$exp/prior")
        elif [ -n "$warm_start" ] && [ "$family" != "$warm_start" ]; then
            overrides+=("train.init_from=$exp/$warm_start" "train.init_modules=[encoder]")
        fi
        run_step "stage2.$family" $(train_command) train "$configs/$family.yaml" --data "$prepared" --out "$exp/$family" \
            --device "$device" ${overrides[@]:+--set "${overrides[@]}"}
        if [ "$protocol" = shared ] && [ "$family" = prior ]; then
            run_step stage2.align $TTS align --checkpoint "$exp/prior" --data "$prepared" --device "$device"
        fi
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
    first_vocoder=$(vocoder_for "${family_list[0]}")
    for family in "${family_list[@]}"; do
        extra=()
        skips=$eval_skip
        # copy-synthesis (the recordings' mels through the vocoder) is the same for every family of one vocoder:
        # the first family's evaluation computes it, and the report takes it from there
        if [ "$family" != "${family_list[0]}" ] && [ "$(vocoder_for "$family")" = "$first_vocoder" ] \
            && [[ " $skips " != *" copy-synthesis "* ]]; then
            skips="${skips:+$skips }copy-synthesis"
        fi
        [ -n "$choose" ] && extra+=(--choose "$choose")
        [ -n "$nfe" ] && extra+=(--sweep "nfe=$nfe" ${nfe_utts:+--sweep-utts "$nfe_utts"})
        [ -n "$curve_every$curve_minutes" ] && [ "$family" != prior ] && extra+=(--learning-curve)
        run_step "stage6.$family" $TTS evaluate --checkpoint "$exp/$family" --data "$prepared" --split test \
            --out "$exp/$family/eval" --vocoder "$(vocoder_for "$family")" --device "$device" \
            --transcript-cache "$exp/transcripts.jsonl" ${eval_utts:+--max-utts "$eval_utts"} ${skips:+--skip $skips} ${extra[@]:+"${extra[@]}"}
    done
fi

if in_stage 7; then
    echo "== stage 7: comparison report"
    evals=()
    for family in "${family_list[@]}"; do evals+=("$exp/$family/eval"); done
    mixed=()
    [ "$protocol" = joint ] && mixed=(--allow-mixed-spines)
    run_step stage7 $TTS compare "${evals[@]}" --out "$exp/report" --title "tts_gen: decoder families on $corpus" \
        ${mixed[@]:+"${mixed[@]}"}
    echo "the report is $exp/report/report.html (and report.md)"
fi
