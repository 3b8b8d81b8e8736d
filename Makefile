# The two set-up commands of the README. Both create .venv when missing.
# `make run` installs what the proxy needs and nothing more; `make test` adds the test extras.
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
# The suite also runs on Python 3.13 (mitmproxy 12), in a second venv: from pyenv, else python3.13 on PATH (one that runs:
# a pyenv shim for a version that is not selected does not).
VENV313 ?= .venv313
PYTHON313 ?= $(shell for p in "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.13*/bin/python \
	"$$(command -v python3.13)"; do \
	[ -x "$$p" ] && "$$p" -c '' 2>/dev/null && echo "$$p"; done | head -n 1)
TEST313_STAMP := $(VENV313)/.installed-test
# Where the proxy's CA lives: mitmproxy's default confdir, which is also `gonogo ca init`'s default. Both commands
# of `make run` get it explicitly, so the CA that is created is the one the proxy signs with.
CONFDIR ?= $(HOME)/.mitmproxy
# `gonogo run` runs under python -O (proxy_addons/cli/optimized.py). Its byte code is compiled once here, after each
# install: Python would write it on first use, but not where PYTHONDONTWRITEBYTECODE is set, and then every start
# of the proxy would compile mitmproxy anew (~1.5 s). A third-party file that does not compile only costs that file.
COMPILE_O = -O -m compileall -q -j 0 "$$($(1) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" proxy_addons \
	>/dev/null || true
DEBIAN_TEST_PACKAGES := redis-server prometheus chromium nodejs curl haproxy nftables slapd ldap-utils
BENCH_PACKAGES := hey wrk squid nginx-light redis-server

.PHONY: run test bench-lists bench-decide bench-ledger bench-proxy bench-proxy-quick bench-memory

$(PY):
	python3 -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	$(PY) $(call COMPILE_O,$(PY))
	touch $(RUNTIME_STAMP)

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install -q -e '.[test]'
	$(PY) $(call COMPILE_O,$(PY))
	touch $(TEST_STAMP)

$(TEST313_STAMP): pyproject.toml
	@test -n "$(PYTHON313)" || { echo "make test: Python 3.13 not found (python3.13 on PATH or pyenv);" \
		"install it, or set PYTHON313=/path/to/python3.13"; exit 1; }
	test -x $(VENV313)/bin/python || $(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install -q -e '.[test]'
	$(VENV313)/bin/python $(call COMPILE_O,$(VENV313)/bin/python)
	touch $(TEST313_STAMP)

# The CA is created (named "gonogo proxy CA") only when the confdir has none; an existing one is kept.
run: $(RUNTIME_STAMP)
	$(VENV)/bin/gonogo ca init --confdir '$(CONFDIR)'
	$(VENV)/bin/gonogo run --policy policies/example.yaml --listen-host 127.0.0.1 --listen-port 8080 \
		--set 'confdir=$(CONFDIR)'

# Lint and type checks once (3.11); the suite on Python 3.11 (mitmproxy 11) and then on 3.13 (mitmproxy 12).
test: $(TEST_STAMP) $(TEST313_STAMP)
	./.ci/debian-packages $(DEBIAN_TEST_PACKAGES)
	$(VENV)/bin/ruff check proxy_addons tests benchmarks
	$(VENV)/bin/mypy proxy_addons
	$(VENV)/bin/pytest -q
	$(VENV313)/bin/pytest -q

bench-decide: $(TEST_STAMP)
	$(PY) benchmarks/decide.py

bench-lists: $(TEST_STAMP)
	$(PY) benchmarks/lists.py

bench-ledger: $(TEST_STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/ledger.py

bench-proxy: $(TEST_STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/proxy.py

bench-proxy-quick: $(TEST_STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/proxy.py --quick

bench-memory: $(TEST_STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/memory.py
