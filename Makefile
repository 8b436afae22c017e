# sockreuse — build, run, test.
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -DSOCKREUSE_VERSION='"$(VERSION)"' \
            -DSOCKREUSE_DATADIR='"$(PREFIX)/share/sockreuse"'
PKGS     := libmnl jansson zlib
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmnl -ljansson -lz)
# Bind every symbol at start: otherwise each forked case resolves afresh the library
# functions only children call (unshare, setns, the netlink ones).
LDFLAGS  += -Wl,-z,now -Wl,-z,relro

BIN      := sockreuse
# Layers, lowest first: a folder includes only from the folders before it (tools/layers.sh).
LAYERS   := lib netns parse reports plan exec sched cmd
LIB_SRC  := $(filter-out cmd/main.c,$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:.c=.o)
HDRS     := $(foreach d,$(LAYERS),$(wildcard $(d)/*.h))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:.c=)

OUT      := reports/out
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST   ?= pytest-3

# Debian packages needed to build, run and test.
DEB_BUILD := gcc make pkg-config libmnl-dev libjansson-dev zlib1g-dev
DEB_TEST  := check libsubunit-dev python3-pytest python3-jsonschema python3-lxml libxml2-utils perl iproute2 \
             python3-yaml chromium
DEB_QEMU  := qemu-system-x86 busybox-static cpio zstd python3-apt

.PHONY: all run check unit e2e bench install kernels baselines docs deps deps-test deps-qemu clean ci-kernel ci-merge

all: $(BIN)

$(BIN): cmd/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(CFLAGS) -c -o $@ $<

# Installs what is missing when root; otherwise prints the command to run.
deps:
	@sh tools/deps.sh $(DEB_BUILD)
deps-test:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_QEMU)
deps-qemu:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_QEMU)

# TAP streams to the terminal and into results.tap (tee -i: an interrupt reaches the runner,
# which still ends the stream with its plan, while tee keeps writing).
run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@mkdir -p $(OUT)
	@{ $(BIN) run -j $(JOBS) --junit $(OUT)/junit.xml --json $(OUT)/results.json; echo $$? > $(OUT)/.rc; } \
	  | tee -i $(OUT)/results.tap; rc=$$(cat $(OUT)/.rc); rm -f $(OUT)/.rc; \
	  echo "reports: $(OUT)/results.tap $(OUT)/junit.xml $(OUT)/results.json"; exit $$rc

tests/unit/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS) $(shell pkg-config --cflags --libs check)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do ./$$t || fail=1; done; exit $$fail

e2e: $(BIN)
	$(PYTEST) -q tests/e2e $(PYTEST_ARGS)

check: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e

bench: $(BIN)
	@sh tools/bench.sh

kernels: deps-qemu
	@$(MAKE) --no-print-directory $(BIN)
	sh kernels/run --all

baselines: deps-qemu
	@$(MAKE) --no-print-directory $(BIN)
	sh kernels/run --all --baselines

# The two jobs of the CI recipes in docs/ci/ (GitHub Actions, GitLab CI): one kernel's report,
# then the comparison of all of them.
KERNEL   ?= host
CI_OUT   ?= ci-out
CI_IN    ?= ci-out
ci-kernel: $(BIN)
	sh docs/ci/kernel-job.sh '$(KERNEL)' '$(CI_OUT)'
ci-merge: $(BIN)
	sh docs/ci/merge-job.sh '$(CI_IN)' '$(CI_OUT)'

docs: $(BIN)
	$(BIN) doc --baselines reports/baselines > docs/BEHAVIOUR.md

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sockreuse/cases $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/sockreuse
	install -m 0644 cases/*.case cases/claims $(DESTDIR)$(PREFIX)/share/sockreuse/cases/
	install -m 0644 docs/sockreuse.8 $(DESTDIR)$(PREFIX)/share/man/man8/sockreuse.8

clean:
	rm -f $(foreach d,$(LAYERS),$(d)/*.o) $(BIN) $(UNIT_BIN)
	rm -rf $(OUT) tests/e2e/__pycache__ .pytest_cache
