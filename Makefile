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

clean-demo:
	rm -rf exp/demo data/demo
