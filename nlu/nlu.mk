# The Rasa NLU server lives in its own venv on Python 3.10 (Rasa 3.6 needs <= 3.10).
NLU_VENV := nlu/.venv
NLU_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10))
DEV_SET ?= $(SHARED)/nlu/dev_set.csv

.PHONY: nlu-venv nlu-train nlu-eval

$(NLU_VENV)/.installed: nlu/requirements.txt
	@test -n "$(NLU_PYTHON)" || { echo "error: python3.10 is needed for the Rasa NLU server"; exit 2; }
	$(NLU_PYTHON) -m venv $(NLU_VENV)
	$(NLU_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip==24.0
	$(NLU_VENV)/bin/pip install --quiet --disable-pip-version-check -r nlu/requirements.txt
	touch $@

nlu-venv: $(NLU_VENV)/.installed

nlu-train: .venv/.synced nlu-venv
	$(UV) run sapa nlu train

nlu-eval: .venv/.synced nlu-venv
	$(UV) run sapa nlu evaluate $(DEV_SET) --min-macro-f1 0.90 --min-crisis-recall 1.0 --min-crisis-precision 0.80
