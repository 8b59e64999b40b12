# The two commands of the README: `make demo` and `make test`. Both create or reuse .venv/.
VENV := .venv
STAMP := $(VENV)/.tts_gen-installed

.PHONY: demo test install clean-demo

$(STAMP): setup.cfg pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh

install: $(STAMP)

demo: $(STAMP)
	recipes/demo/run.sh

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

clean-demo:  # what the demo writes: its runs (every budget) and the built-in corpus
	rm -rf exp/demo-short exp/demo-medium exp/demo-long data/ljflite
