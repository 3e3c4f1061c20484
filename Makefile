# The course's commands. `make lab` to learn, `make test` to check everything.
# Both create .venv and install the pinned environment the first time (or when the pins change).

SHELL := /bin/bash
# The first Python 3.10-3.12 on PATH (3.11 preferred); override with `make lab PYTHON=/path/to/python3`.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3,10) <= sys.version_info[:2] <= (3,12))' 2>/dev/null \
            && { command -v $$p; break; }; done)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# One notebook only: make regen NB=notebooks/01_tensors.ipynb
NB      ?= $(NOTEBOOKS)
PORT    ?= 8888
# Jupyter refuses to run as root unless told (containers, CI); a normal user never needs this.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# The same kernel settings everywhere (tools/kernel.json); these also quiet TF in the pytest process.
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# torch.compile's cache: in build/, never the shared system temp folder (a cache built under other
# CPU settings fails to load there); tools/portability.py gives each variant its own.
export TORCHINDUCTOR_CACHE_DIR := $(CURDIR)/build/cache/inductor-native

.PHONY: help install lab test test-unit test-notebooks regen sync doctor clean
.PHONY: test-browser test-repeat browser-install test-notebooks-native test-portable venv-other
.PHONY: learner slides slides-assets wheelhouse schedule
.PHONY: hub test-hub hub-load hub-stop progress room
.PHONY: lab-instructor learner-refresh
.PHONY: site

help:
	@echo "make lab             install (first time), build your own copies in workspace/ and open JupyterLab there (127.0.0.1, with a token)"
	@echo "make lab-instructor  JupyterLab on notebooks/: the instructor versions, solutions executed"
	@echo "make test            install (first time) and run every test: unit, notebook structure, nbval (network off), browser"
	@echo "make test-browser    every notebook run in JupyterLab in Chromium (part of make test)"
	@echo "make test-repeat     the strict notebook run three times in a row, with each notebook's time per run"
	@echo "make test-portable   the strict notebook run as if on other CPUs, core counts, another Python, a busy machine (tools/portability.py --list)"
	@echo "make browser-install Chromium for the browser test (Debian package as root, else Playwright's own)"
	@echo "make doctor          is this machine ready? one [OK]/[FAIL] line per check"
	@echo "make regen [NB=...]  re-execute notebooks in place, exactly as the tests run them"
	@echo "make sync            bring notebooks/*.ipynb and their text twins lessons/*.py in step"
	@echo "make clean           remove .venv (the environment, 1-4 GB to reinstall) and build/ (caches, your record); never workspace/ (your copies) nor hub-state/ (the hub's accounts and learners' work)"
	@echo "make progress        your own record: each exercise you checked, done or not, tries (cu.progress())"
	@echo "make learner         add new lessons and updates to workspace/ without serving it; a copy you changed gets the update with your answers carried over (yours kept in workspace/backups/)"
	@echo "make learner-refresh LESSON=03  replace your copy of lesson 03 by the current one (yours goes to workspace/backups/)"
	@echo "make slides          a Reveal.js deck per lesson in build/slides/ that opens offline (needs npm)"
	@echo "make site            the course as a static website in build/site/ (offline, searchable; SITE_SOLUTIONS=1: instructor site)"
	@echo "make schedule        docs/instructors/schedule.md from the lesson headers and measured times"
	@echo "make wheelhouse      download every pinned package into wheelhouse/ (make lab then installs offline)"
	@echo "make hub             a JupyterHub for the room on 127.0.0.1:8000 (docs/instructors/hub.md)"
	@echo "make test-hub        the real hub with a simulated room of learners, isolation and faults (part of make test)"
	@echo "make hub-load        the hub's sizing measurement: rooms of HUB_ROOMS learners, plot in docs/instructors/"
	@echo "make hub-stop        stop every learner's server and kernel, the board and the hub (end of a workshop)"
	@echo "make room DIR=...    the instructor's board as text, from learners' records collected in one folder"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no Python 3.10-3.12 on PATH — install Python 3.11, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch on Linux: PyPI's Linux wheel is the CUDA build (about 18 nvidia-* wheels, several GB); PyTorch's
# CPU index has the same version without CUDA. TORCH_INDEX=cpu (the default on Linux) tries that index
# first (5 s to answer); where it cannot be reached it says so in one line and PyPI's wheel is used.
# TORCH_INDEX=pypi skips the try (e.g. `make lab TORCH_INDEX=pypi`, or a machine whose pip already
# finds a CPU build); macOS and Windows wheels on PyPI are CPU builds, so the default there is pypi.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),cpu,pypi)
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

# Reinstalls only when requirements.txt, pyproject.toml, the kernel settings or the build constraints change.
# tools/build-constraints.txt: what pip may use to build a package from source (visdom needs setuptools<81).
$(STAMP): requirements.txt pyproject.toml tools/kernel.json tools/build-constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(if $(wildcard wheelhouse/*.whl),--no-index --find-links=wheelhouse) --upgrade pip
	@if [ "$(TORCH_INDEX)" = cpu ] && [ -z "$(wildcard wheelhouse/*.whl)" ]; then \
	  if $(BIN)/python -c "import urllib.request as u; u.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=5)" 2>/dev/null; then \
	    echo "torch: the CPU build, from $(TORCH_CPU_INDEX)"; \
	    $(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_CPU_INDEX) "$$(grep -E '^torch==' requirements.txt)"; \
	  else echo "torch: $(TORCH_CPU_INDEX) cannot be reached; torch comes from PyPI (on Linux that may be the CUDA build, several GB; TORCH_INDEX=pypi skips this try)"; fi; \
	fi
	$(BIN)/python -m pip install --quiet $(if $(wildcard wheelhouse/*.whl),--no-index --find-links=wheelhouse) --build-constraint tools/build-constraints.txt -r requirements.txt
	$(BIN)/python -m pip install --quiet $(if $(wildcard wheelhouse/*.whl),--no-index --find-links=wheelhouse) --no-deps -e .
	mkdir -p $(VENV)/share/jupyter/kernels/python3
	cp tools/kernel.json $(VENV)/share/jupyter/kernels/python3/kernel.json
	touch $(STAMP)

# JupyterLab's defaults for this environment (tools/jupyter_settings/overrides.json): no news toast.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): tools/jupyter_settings/overrides.json | $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

install: $(STAMP) $(LAB_SETTINGS)

# LAB_DIR, LAB_ARGS: the folder served and extra options; the browser test (tests/labserver.py) runs
# this very command on copies of the notebooks, with its own port, token and settings.
# Keep ip=127.0.0.1 and the token: tests/test_safety.py checks both.
# `make lab` serves the learner's own copies in WORKSPACE (course_utils/kit/workspace.py): built the first
# time, later runs add new lessons and bring updates: a copy the learner changed is copied to backups/ and
# the update gets their answer cells carried over (one line per lesson says so). `make clean` never touches it.
WORKSPACE ?= workspace
LAB_DIR ?= $(WORKSPACE)
LAB_ARGS ?=
# The kernels' C-level output reaches this terminal (tools/kernel.json: capture_fd_output=False); the
# lines TensorFlow's C++ runtime writes at import on a machine without CUDA, whatever the log level, are
# dropped here (LAB_NOISE; the same list as course_utils/kit/doctor.py's TF_NOISE). Everything else passes.
LAB_NOISE := absl::InitializeLog|cudart_stub|cuInit|cuda_platform|cuda_(dnn|fft|blas)\.cc|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|TF-TRT Warning|oneDNN custom operations
lab: install
	@if [ "$(LAB_DIR)" = "$(WORKSPACE)" ]; then $(BIN)/python -m course_utils workspace --out $(WORKSPACE); fi
	@set -o pipefail; $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.root_dir=$(LAB_DIR) $(ROOT_FLAG) $(LAB_ARGS) 2>&1 \
	  | { grep --line-buffered -v -E '$(LAB_NOISE)' || true; }

# The instructor versions: every solution is in them, executed.
lab-instructor:
	@$(MAKE) --no-print-directory lab LAB_DIR=notebooks

doctor: install
	$(BIN)/python -m course_utils doctor

# Everything CI runs (.ci/run: `make browser-install test`). Times on 2 cores: see tests/README.md.
# Each target runs in turn (the first failure stops the run, as before); at the end, even after a
# failure, the time each one took (build/test_times.txt): a busy or slow machine shows where time went.
TEST_TARGETS := test-unit test-notebooks-native test-notebooks-narrow test-browser test-hub
test: install
	@mkdir -p build; rm -f build/test_times.txt; status=0; \
	for target in $(TEST_TARGETS); do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$target; status=$$?; \
	  echo "$$target: $$(( $$(date +%s) - start )) s$$([ $$status = 0 ] || echo ' (failed)')" >> build/test_times.txt; \
	  [ $$status = 0 ] || break; \
	done; \
	echo "=== make test, time per target:"; cat build/test_times.txt; exit $$status

# The browser test re-runs every notebook, so it has its own target (test-browser), not this one.
test-unit: install
	$(BIN)/python -m pytest tests --ignore=tests/test_browser.py --ignore=tests/test_portability.py

# Strict nbval: every stored output is compared; tests/nbval_sanitize.cfg says what may vary and why.
# It runs with the outbound network off where this machine allows it (tests/netoff.py: root + unshare;
# a laptop says so and runs with the network on); tests/test_network_off.py runs inside to prove it.
# Then the same stored outputs must hold as if on another CPU (tools/portability.py: the libraries'
# own dispatch switches; tests/test_portability.py proves each one reached the kernel): `narrow` here,
# every variant in `make test-portable`. Nothing is regenerated between the runs.
NBVAL := $(BIN)/python -m pytest -p no:cacheprovider --nbval $(NOTEBOOKS) tests/test_network_off.py \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300
PORTABILITY_VARIANTS := narrow avx2 one-core other-python busy
test-notebooks: test-notebooks-native test-notebooks-narrow

test-notebooks-native: install
	$(BIN)/python tests/netoff.py $(NBVAL)

test-notebooks-%: install
	$(BIN)/python tools/portability.py $* -- $(BIN)/python tests/netoff.py $(NBVAL) tests/test_portability.py

# The strict notebook run under every portability variant, one after the other (about 6x test-notebooks-native;
# other-python builds its venv the first time, several GB; busy runs slower).
test-portable: test-notebooks-native $(addprefix test-notebooks-,$(PORTABILITY_VARIANTS))

# The other-python variant's venv (tools/portability.py makes it when missing or out of date): this Makefile's
# own install, with another supported Python found here (3.12, else 3.10; OTHER_PYTHON=/path chooses) into
# build/venv-pyXY, and torch from PyPI's default index (TORCH_INDEX=pypi: on Linux the CUDA build, with triton).
venv-other: install
	@found=$$(OTHER_PYTHON="$(OTHER_PYTHON)" $(BIN)/python tools/portability.py --other-python) || exit 1; set -- $$found; \
	  $(MAKE) --no-print-directory install PYTHON=$$1 VENV=$$2 TORCH_INDEX=pypi

# The strict notebook run three times in a row (all must pass), then each notebook's time per run.
test-repeat: install
	@mkdir -p build
	@for i in 1 2 3; do echo "=== strict notebook run $$i of 3"; \
	  $(MAKE) --no-print-directory test-notebooks-native || { echo "error: run $$i of 3 failed"; exit 1; }; \
	  cp build/notebook_times.json build/notebook_times.run$$i.json; done
	@$(BIN)/python tests/timing_report.py build/notebook_times.run1.json build/notebook_times.run2.json build/notebook_times.run3.json

# Every lesson run in a real JupyterLab in a real Chromium (tests/test_browser.py), network off too.
# Screenshots: build/browser/. Without Chromium it skips with the reason, except under CI=true.
test-browser: install
	COURSE_BROWSER_TEST=1 $(BIN)/python tests/netoff.py $(BIN)/python -m pytest tests/test_browser.py

# Chromium for the browser test. As root on Debian/Ubuntu: the distribution's package (Playwright's
# own download does not work everywhere); otherwise Playwright's own Chromium, in your home folder.
browser-install: install
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium) is installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium package (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "installing Playwright's own Chromium (~150 MB, into ~/.cache/ms-playwright)"; \
	  $(BIN)/python -m playwright install chromium; fi

regen: install
	@mkdir -p build
	@$(BIN)/jupytext --sync $(NB) >/dev/null   # take edits from lessons/*.py first
	@for nb in $(NB); do \
	  echo "executing $$nb"; start=$$(date +%s); \
	  if ! COURSE_RECORD=off $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	         --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.record_timing=False \
	         --ExecutePreprocessor.coalesce_streams=True "$$nb" > build/regen.log 2>&1; then \
	    cat build/regen.log; echo "error: $$nb failed to execute (see above)"; exit 1; fi; \
	  echo "  $$(( $$(date +%s) - start )) s"; \
	done
	@$(BIN)/jupytext --sync $(NB) >/dev/null   # outputs changed: refresh the text twins' timestamps

sync: install
	$(BIN)/jupytext --sync notebooks/*.ipynb

clean:
	@echo "make clean: removing $(VENV) (the environment; make lab reinstalls it) and build/ (caches, scratch); keeping workspace/ and $(HUB_STATE)/ (your copies, the hub's accounts) and build/record/ (your record)"
	rm -rf $(VENV)
	@if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name record -exec rm -rf {} +; fi

progress: install
	@$(BIN)/python -m course_utils progress

room: install
	@test -n "$(DIR)" || { echo "error: say which folder, e.g. make room DIR=collected/ (<name>/record/log.jsonl or <name>.jsonl)"; exit 1; }
	@$(BIN)/python -m course_utils room $(DIR)

# --- workshop kit (docs/instructors/guide.md) ----------------------------------------------------

# Learner copies (solution cells become `answer = ...`, outputs cleared, checks kept) in WORKSPACE,
# built as `make lab` does, without serving; one line per lesson says what it did. An updated lesson
# replaces a copy only run and saved; a copy with your answers gets the update with the answers carried
# over (yours before it in WORKSPACE/backups/). `python -m course_utils learner --out DIR` writes a fresh
# set elsewhere (e.g. to hand out), overwriting that folder.
learner: install
	$(BIN)/python -m course_utils workspace --out $(WORKSPACE)

# On request only: your copy of one lesson replaced by the current version, yours kept in WORKSPACE/backups/.
learner-refresh: install
	@test -n "$(LESSON)" || { echo "error: say which lesson, e.g. make learner-refresh LESSON=03"; exit 1; }
	$(BIN)/python -m course_utils workspace --out $(WORKSPACE) --refresh $(LESSON)

# reveal.js & co., exactly as package-lock.json pins them (npm ci); re-run when the lock changes.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found — install Node.js (https://nodejs.org) for make slides"; exit 1; }
	npm ci --no-audit --no-fund
slides-assets: node_modules/.package-lock.json

# One deck per lesson, with reveal.js copied next to the decks: build/slides/ opens offline, from disk.
# Bullets on screen, each slide's full text in its speaker notes (press s), PyTorch | TensorFlow side by side.
slides: install slides-assets
	$(BIN)/python -m course_utils slides --out build/slides

# The course as a website (website/build.py): build/site/ from the committed, executed notebooks, never
# re-executed; learner version (solutions removed) unless SITE_SOLUTIONS=1. Any Sphinx warning fails it.
# SITE_REPO_URL: the repository that "report a problem with this page" and links to files point at.
# Default: the git remote "origin"; with none, pages name the file and say how to report (no address made up).
# Open build/site/index.html, or serve it: python -m http.server -d build/site -b 127.0.0.1 8000
SITE_SOLUTIONS ?=
SITE_REPO_URL ?= $(shell git remote get-url origin 2>/dev/null | sed -E 's#^git@([^:]+):#https://\1/#; s#\.git$$##')
site: install
	$(BIN)/python website/build.py --out build/site $(if $(filter 1 yes true,$(SITE_SOLUTIONS)),--solutions) \
	  $(if $(SITE_REPO_URL),--repo-url "$(SITE_REPO_URL)")

# Tracks and the two-day course from the lessons, course_utils/kit/tracks.py and the measured times:
# build/browser/times.json (make test-browser: Run All in the browser), else build/notebook_times.json
# (make test-notebooks) scaled. Writes docs/instructors/schedule.md only when it changes.
# WORKSHOP_ROOM: learners in the room (sizes the setup slot).
WORKSHOP_ROOM ?= 30
schedule: install
	WORKSHOP_ROOM=$(WORKSHOP_ROOM) $(BIN)/python -m course_utils schedule

# Every pinned package as a wheel, for a room with bad Wi-Fi: `make lab` installs from ./wheelhouse
# when it holds wheels (no network). Build it on the learners' platform (OS, CPU, Python version), or
# pass pip's platform options, e.g. WHEELHOUSE_ARGS="--platform macosx_11_0_arm64 --python-version 3.11 --only-binary=:all:".
# On Linux torch comes from PyTorch's CPU index (PyPI's Linux wheel pulls in CUDA, several GB).
WHEELHOUSE ?= wheelhouse
WHEELHOUSE_ARGS ?= $(if $(filter Linux,$(shell uname -s)),--extra-index-url https://download.pytorch.org/whl/cpu)
wheelhouse: | $(BIN)/python
	$(BIN)/python -m pip download --dest $(WHEELHOUSE) $(WHEELHOUSE_ARGS) --build-constraint tools/build-constraints.txt -r requirements.txt pip "setuptools>=68,<81" wheel
	@echo "$(WHEELHOUSE)/: $$(ls $(WHEELHOUSE) | wc -l) files, $$(du -sh $(WHEELHOUSE) | cut -f1); make lab now installs from it with no network"

# --- workshop hub (docs/instructors/hub.md) ------------------------------------------------------

# JupyterHub + configurable-http-proxy (npm, pinned in package-lock.json) on 127.0.0.1:8000; accounts,
# tokens and each learner's folder (users/<name>/) in HUB_STATE, outside build/ (make clean keeps it).
# The instructor's board: /services/board/ (admins only). A room's network: hub.md (TLS first).
HUB_STATE ?= hub-state
hub: install slides-assets
	@echo "hub: state in $(HUB_STATE)/; board at /services/board/ (instructor); at the end: make hub-stop"
	COURSE_HUB_STATE=$(abspath $(HUB_STATE)) $(BIN)/jupyterhub -f tools/hub/jupyterhub_config.py

# Every learner's server and kernel, the board, the culler, the proxy and the hub of HUB_STATE: stopped.
hub-stop:
	$(BIN)/python tools/hub/stop.py $(abspath $(HUB_STATE))

# The real hub on 127.0.0.1 with HUB_LEARNERS simulated learners at once (issue 34): the first runs every
# lesson, the others 09, 11 and 13 at overlapping times; exercises answered right and wrong, a sticky note,
# minute cards, the instructor's board over HTTP and in Chromium (build/hub-test/board.png), a learner
# refused by it; isolation, a killed kernel and server, a hub restart, then hub-stop: nothing left running.
# Measured: 329 s and 361 s (two passing runs, 4 learners) on this 2-core machine while other jobs held
# its load average at 10-15; an idle CI machine should take less. Part of `make test` (under 8 minutes).
HUB_LEARNERS ?= 3
test-hub: install slides-assets
	COURSE_HUB_TEST=1 COURSE_HUB_LEARNERS=$(HUB_LEARNERS) $(BIN)/python -m pytest -p no:cacheprovider tests/test_hub.py

# The measurement behind hub.md's sizing table: one room per size in HUB_ROOMS, one after the other.
HUB_ROOMS ?= 1 2 4 6
hub-load: install slides-assets
	$(BIN)/python tools/hub/room.py --learners $(HUB_ROOMS) --out build/hub-load --plot docs/instructors/hub_load.png
