#!/usr/bin/env bash
# Creates (or reuses) .venv at the repository root and installs tts_gen in it with its extras,
# after making sure the Debian packages tts_gen needs are present.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(flite chromium)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${missing[*]}"
        apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
    else
        echo "tts_gen needs the Debian packages ${missing[*]}; run:" >&2
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "installing tts_gen and its dependencies into .venv (the first time downloads PyTorch)"
.venv/bin/python -m pip install -q -e ".[eval,test]"
touch .venv/.tts_gen-installed
