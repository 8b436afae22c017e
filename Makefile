# sockreuse — build, run, test.
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -DSOCKREUSE_VERSION='"$(VERSION)"'
DATADIR  := $(PREFIX)/share/sockreuse
PKGS     := libmnl jansson zlib libbpf
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmnl -ljansson -lz -lbpf)
# Bind every symbol at start: otherwise each forked case resolves afresh the library
# functions only children call (unshare, setns, the netlink ones).
LDFLAGS  += -Wl,-z,now -Wl,-z,relro

BIN      := sockreuse
# Layers, lowest first: a folder includes only from the folders before it (tools/layers.sh).
LAYERS   := lib netns observe parse reports plan exec sched cmd
LIB_SRC  := $(filter-out cmd/main.c %.bpf.c,$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:.c=.o)
# Generated at build time: the running kernel's types (CO-RE relocates against the BTF of
# whichever kernel loads the program) and the skeleton that embeds the BPF object.
BPF_GEN  := observe/vmlinux.h observe/sockopts.bpf.o observe/sockopts.skel.h
HDRS     := $(filter-out $(BPF_GEN),$(foreach d,$(LAYERS),$(wildcard $(d)/*.h)))
BTF      ?= /sys/kernel/btf/vmlinux
CLANG    ?= clang
BPFTOOL  ?= bpftool
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:.c=)

OUT      := reports/out
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST   ?= pytest-3

# Debian packages needed to build, run and test (the e2e tests run a terminal under
# script(1) from bsdutils, which every Debian system has, and build the package).
DEB_BUILD := gcc make pkg-config libmnl-dev libjansson-dev zlib1g-dev clang llvm libbpf-dev bpftool
DEB_TEST  := check libsubunit-dev python3-pytest python3-jsonschema python3-lxml libxml2-utils perl iproute2 \
             python3-yaml chromium
DEB_QEMU  := qemu-system-x86 busybox-static cpio zstd python3-apt
DEB_PKG   := debhelper dpkg-dev fakeroot lintian

# make check boots a Debian kernel under qemu (downloading it first); SKIP_KERNELS=1 leaves
# that test out.
ifeq ($(SKIP_KERNELS),1)
PYTEST_ARGS += -m 'not qemu'
endif

.PHONY: all run check layers unit e2e bench install kernels baselines docs deps deps-test deps-qemu deps-deb deb clean FORCE ci-kernel ci-merge

all: $(BIN)

$(BIN): cmd/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The installed binary looks for its cases under PREFIX: the object that says so is rebuilt
# whenever PREFIX changes (.prefix holds the last one, rewritten only when it differs).
cmd/cmd_info.o: CFLAGS += -DSOCKREUSE_DATADIR='"$(DATADIR)"'
cmd/cmd_info.o: .prefix
.prefix: FORCE
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@

observe/vmlinux.h: $(BTF)
	$(BPFTOOL) btf dump file $(BTF) format c > $@.tmp && mv $@.tmp $@
# -g for the BTF that CO-RE needs; llvm-strip -g then drops the DWARF the loader does not.
observe/sockopts.bpf.o: observe/sockopts.bpf.c observe/sockopts_rec.h observe/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -c -o $@ $<
	llvm-strip -g $@
observe/sockopts.skel.h: observe/sockopts.bpf.o
	$(BPFTOOL) gen skeleton $< name sockopts_bpf > $@.tmp && mv $@.tmp $@
observe/sockopts.o: observe/sockopts.skel.h

# Installs what is missing when root; otherwise prints the command to run.
deps:
	@sh tools/deps.sh $(DEB_BUILD)
deps-test:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_QEMU) $(DEB_PKG)
deps-qemu:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_QEMU)
deps-deb:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_PKG)

# On a terminal the runner shows its progress, the failures as they happen and a recap; the
# full TAP goes to results.tap. RUN_ARGS adds options (make run RUN_ARGS='-x --param op=bind').
run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@mkdir -p $(OUT)
	@./$(BIN) run -j $(JOBS) --tap $(OUT)/results.tap --junit $(OUT)/junit.xml --json $(OUT)/results.json \
	  $(RUN_ARGS); rc=$$?; echo "reports: $(OUT)/results.tap $(OUT)/junit.xml $(OUT)/results.json"; exit $$rc

tests/unit/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS) $(shell pkg-config --cflags --libs check)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do ./$$t || fail=1; done; exit $$fail

e2e: $(BIN)
	$(PYTEST) -q tests/e2e $(PYTEST_ARGS)

# No folder includes a header of a layer above it.
layers:
	@sh tools/layers.sh $(LAYERS)

check: deps-test
	@$(MAKE) --no-print-directory layers
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
	./$(BIN) doc --baselines reports/baselines > docs/BEHAVIOUR.md

COMPLETIONS := $(PREFIX)/share/bash-completion/completions

# The man page names the installed paths: its prefix string is set to PREFIX.
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR)/cases $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(COMPLETIONS)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/sockreuse
	install -m 0644 cases/*.case cases/claims $(DESTDIR)$(DATADIR)/cases/
	install -m 0644 reports/schema.json reports/list-schema.json $(DESTDIR)$(DATADIR)/
	sed 's|^\.ds prefix .*|.ds prefix $(PREFIX)|' docs/sockreuse.8 > $(DESTDIR)$(PREFIX)/share/man/man8/sockreuse.8
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man8/sockreuse.8
	install -m 0644 tools/sockreuse.bash-completion $(DESTDIR)$(COMPLETIONS)/sockreuse

# A Debian package, built from a copy of this tree so that dpkg-buildpackage's output (it
# writes beside the source folder) and its clean stay under build/deb; then lintian.
DEBDIR := build/deb
deb: deps-deb
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)/sockreuse-$(VERSION)
	tar -c --exclude=./.git --exclude=./build --exclude=./kernels/cache --exclude=./reports/out \
	  --exclude=./.prefix --exclude='*.o' --exclude=./$(BIN) . | tar -x -C $(DEBDIR)/sockreuse-$(VERSION)
	cd $(DEBDIR)/sockreuse-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEBDIR)/sockreuse_$(VERSION)_*.deb
	@ls $(DEBDIR)/*.deb

clean:
	rm -f $(foreach d,$(LAYERS),$(d)/*.o) $(BIN) $(UNIT_BIN) .prefix $(BPF_GEN)
	rm -rf $(OUT) build tests/e2e/__pycache__ .pytest_cache
