# The two commands of the README: `make demo` and `make test`. Both create or reuse .venv/.
VENV := .venv
STAMP := $(VENV)/.tts_gen-installed

.PHONY: demo test install clean-demo

$(STAMP): setup.cfg pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh

install: $(STAMP)

demo: $(STAMP)
	recipes/demo/run.sh

test: $(STAMP)  # one test process per core (each runs torch on one thread)
	$(VENV)/bin/python -m pytest -q -n auto

clean-demo:  # what the demo writes: its runs (every budget) and the built-in corpus
	rm -rf exp/demo-short exp/demo-medium exp/demo-long data/ljflite
