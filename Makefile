# The two set-up commands of the README. Both create .venv when missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEBIAN_TEST_PACKAGES := redis-server prometheus chromium nodejs curl haproxy nftables
BENCH_PACKAGES := hey squid nginx-light redis-server

.PHONY: run test bench-lists bench-decide bench-ledger bench-proxy bench-proxy-quick bench-memory

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m proxy_addons.cli run --policy policies/example.yaml --listen-host 127.0.0.1 --listen-port 8080

test: $(STAMP)
	./.ci/debian-packages $(DEBIAN_TEST_PACKAGES)
	$(VENV)/bin/ruff check proxy_addons tests benchmarks
	$(VENV)/bin/mypy proxy_addons
	$(VENV)/bin/pytest -q

bench-decide: $(STAMP)
	$(PY) benchmarks/decide.py

bench-lists: $(STAMP)
	$(PY) benchmarks/lists.py

bench-ledger: $(STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/ledger.py

bench-proxy: $(STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/proxy.py

bench-proxy-quick: $(STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/proxy.py --quick

bench-memory: $(STAMP)
	./.ci/debian-packages $(BENCH_PACKAGES)
	$(PY) benchmarks/memory.py
