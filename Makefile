# The two set-up commands of the README. Both create .venv when missing.
# `make run` installs what the proxy needs and nothing more; `make test` adds the test extras.
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
# Where the proxy's CA lives: mitmproxy's default confdir, which is also `gonogo ca init`'s default. Both commands
# of `make run` get it explicitly, so the CA that is created is the one the proxy signs with.
CONFDIR ?= $(HOME)/.mitmproxy
DEBIAN_TEST_PACKAGES := redis-server prometheus chromium nodejs curl haproxy nftables slapd ldap-utils
BENCH_PACKAGES := hey squid nginx-light redis-server

.PHONY: run test bench-lists bench-decide bench-ledger bench-proxy bench-proxy-quick bench-memory

$(PY):
	python3 -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $(RUNTIME_STAMP)

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

# The CA is created (named "gonogo proxy CA") only when the confdir has none; an existing one is kept.
run: $(RUNTIME_STAMP)
	$(VENV)/bin/gonogo ca init --confdir '$(CONFDIR)'
	$(VENV)/bin/gonogo run --policy policies/example.yaml --listen-host 127.0.0.1 --listen-port 8080 \
		--set 'confdir=$(CONFDIR)'

test: $(TEST_STAMP)
	./.ci/debian-packages $(DEBIAN_TEST_PACKAGES)
	$(VENV)/bin/ruff check proxy_addons tests benchmarks
	$(VENV)/bin/mypy proxy_addons
	$(VENV)/bin/pytest -q

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
