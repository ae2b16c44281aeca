# Makefile - builds milter-reword: the core library (no libmilter), the admin
# tool `reword`, the daemon `milter-reword`, and runs the tests.
#
#   make deps       install every Debian package needed (as root, idempotent)
#   make all        build into build/
#   make check      unit tests (cmocka), CLI tests, integration tests
#   make bench      every benchmark, one table of figures (bench/all.sh)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=1 build and test with ASan+UBSan
#
# Layout (HACKING.md): milter/core/<area> (the library, no libmilter; areas
# util < smtp, proto < reply < rules < engine < report), milter/tool
# (reword), milter/proxy (proxy mode) and milter/daemon (milter-reword);
# include/ holds the core's public headers.  `make check-layers` fails on an
# include against that order.

PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
DESTDIR     ?=
CC          ?= cc
AWK         ?= awk
CFLAGS      ?= -O2 -g
WARN         = -Wall -Wextra -Werror -std=gnu11
B            = build

PKGS         = libconfig libpcre2-8
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lconfig -lpcre2-8) -lz

ifeq ($(SANITIZE),1)
CFLAGS      += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS     += -fsanitize=address,undefined
endif

CPPFLAGS    += -Iinclude -I$(B)/gen -D_GNU_SOURCE \
               -DSYSCONFDIR='"$(SYSCONFDIR)"' $(PKG_CFLAGS)
ALL_CFLAGS   = $(WARN) $(CFLAGS) $(CPPFLAGS)
# the core's own headers beside its modules, included by area: "rules/template.h"
CORE_CPPFLAGS = -Imilter/core

TAX_TSV      = $(wildcard conf/taxonomy/*.tsv)
CORE_SRC     = $(wildcard milter/core/*/*.c)
CORE_OBJ     = $(CORE_SRC:milter/core/%.c=$(B)/core/%.o) $(B)/core/smtp/taxonomy_data.o
TOOL_SRC     = $(wildcard milter/tool/*.c)
TOOL_OBJ     = $(TOOL_SRC:milter/tool/%.c=$(B)/tool/%.o)
DAEMON_SRC   = $(wildcard milter/daemon/*.c)
DAEMON_OBJ   = $(DAEMON_SRC:milter/daemon/%.c=$(B)/daemon/%.o) $(PROXY_OBJ)
PROXY_SRC    = $(wildcard milter/proxy/*.c)
PROXY_OBJ    = $(PROXY_SRC:milter/proxy/%.c=$(B)/proxy/%.o)
UNIT_SRC     = $(wildcard tests/unit/test_*.c)
UNIT_BIN     = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FIXTURE_SRC  = $(wildcard tests/fixtures/*.c)
FIXTURE_BIN  = $(FIXTURE_SRC:tests/fixtures/%.c=$(B)/fixtures/%)

PROGRAMS     = $(B)/reword
ifneq ($(DAEMON_SRC),)
PROGRAMS    += $(B)/milter-reword
endif

.PHONY: all deps check check-layers lint unit cli miltertest integration install clean demo bench
all: $(PROGRAMS)

deps:
	sh tools/deps.sh

$(B)/gen/taxonomy_data.c: $(TAX_TSV) tools/gen-taxonomy.awk
	@mkdir -p $(@D)
	$(AWK) -f tools/gen-taxonomy.awk $(TAX_TSV) > $@.tmp && mv $@.tmp $@

$(B)/core/smtp/taxonomy_data.o: $(B)/gen/taxonomy_data.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Every object's exact header dependencies come from the compiler (-MMD -MP,
# the .d files beside the objects): touching one header rebuilds only the
# objects that include it.
$(B)/core/%.o: milter/core/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CORE_CPPFLAGS) -MMD -MP -c -o $@ $<

$(B)/tool/%.o: milter/tool/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/daemon/%.o: milter/daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Imilter/proxy -MMD -MP -c -o $@ $<

$(B)/proxy/%.o: milter/proxy/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libreword-core.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/reword: $(TOOL_OBJ) $(B)/libreword-core.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJ) $(B)/libreword-core.a $(PKG_LIBS) $(LDLIBS)

$(B)/milter-reword: $(DAEMON_OBJ) $(B)/libreword-core.a
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(B)/libreword-core.a -lmilter -lpthread $(PKG_LIBS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libreword-core.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CORE_CPPFLAGS) -MMD -MP -DTEST_SRCDIR='"$(CURDIR)"' -o $@ $< $(B)/libreword-core.a $(PKG_LIBS) -lcmocka $(LDFLAGS) $(LDLIBS)

$(B)/bench/%: bench/%.c $(B)/libreword-core.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CORE_CPPFLAGS) -MMD -MP -o $@ $< $(B)/libreword-core.a $(PKG_LIBS) $(LDFLAGS) $(LDLIBS)

# every benchmark, then one table of all figures (bench/all.sh)
bench: $(B)/bench/bench_rules $(B)/bench/gen_maillog $(PROGRAMS) $(FIXTURE_BIN)
	@B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) bash bench/all.sh

$(B)/fixtures/%: tests/fixtures/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lmilter -lpthread $(LDFLAGS)

check: check-layers unit cli miltertest integration

check-layers:
	@python3 tools/check-layers.py .

# The JSON compilation database for clangd and clang-tidy.
LINT_SRC     = $(CORE_SRC) $(TOOL_SRC) $(DAEMON_SRC) $(PROXY_SRC)
compile_commands.json: $(LINT_SRC) $(UNIT_SRC) Makefile | $(B)/gen/taxonomy_data.c
	@python3 tools/compile-commands.py $@ $(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -- $(LINT_SRC) $(UNIT_SRC)

# Static analysis, clean or failing: cppcheck and clang-tidy (.clang-tidy) on
# milter/, and every export carrying its module's prefix (tools/check-names.py).
CPPCHECK_FLAGS = --quiet --language=c --std=c11 --enable=warning,portability,performance \
                 --inline-suppr --suppress=missingIncludeSystem --error-exitcode=1 \
                 -Iinclude -Imilter/core -Imilter/proxy -I$(B)/gen -D_GNU_SOURCE
lint: compile_commands.json all
	cppcheck $(CPPCHECK_FLAGS) milter
	@echo 'clang-tidy (.clang-tidy) on milter/'; clang-tidy --quiet -p . $(LINT_SRC) 2>$(B)/clang-tidy.err \
	    || { grep -v 'warnings generated' $(B)/clang-tidy.err; exit 1; }
	@python3 tools/check-names.py $(B)

# One suite's tests: T=NAME picks one file (unit: tests/unit/test_NAME.c,
# cli: tests/cli/NAME.sh, integration and sendmail-tests: t_NAME.sh);
# CASE=GLOB picks cmocka cases by name (HACKING.md, "Running one test").
UNIT_RUN_BIN = $(if $(T),$(B)/tests/test_$(T:test_%=%),$(UNIT_BIN))
CLI_RUN      = $(if $(T),tests/cli/$(T:%.sh=%).sh,tests/cli/*.sh)
SUITE_ARGS   = $(if $(T),t_$(patsubst t_%,%,$(T:%.sh=%)).sh)

unit: $(UNIT_RUN_BIN)
	@fail=0; for t in $(UNIT_RUN_BIN); do echo "== $$t"; CASE='$(CASE)' $$t || fail=1; done; exit $$fail

cli: $(PROGRAMS)
	@fail=0; for t in $(CLI_RUN); do [ -f "$$t" ] || { echo "no such test: $$t"; fail=1; continue; }; \
	    echo "== $$t"; REWORD=$(CURDIR)/$(B)/reword SRCDIR=$(CURDIR) sh $$t || fail=1; done; exit $$fail

miltertest: $(PROGRAMS)
	@B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) sh tests/milter/run.sh

integration: $(PROGRAMS) $(FIXTURE_BIN)
	@if [ -x tests/integration/run.sh ]; then B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) tests/integration/run.sh $(SUITE_ARGS); fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(SYSCONFDIR)/milter-reword/rules.d \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(B)/reword $(DESTDIR)$(PREFIX)/bin/reword
	if [ -f $(B)/milter-reword ]; then install -m 0755 $(B)/milter-reword $(DESTDIR)$(PREFIX)/sbin/milter-reword; fi
	for f in conf/milter-reword.conf conf/rules.d/*.conf; do [ -f "$$f" ] || continue; \
	    d=$(DESTDIR)$(SYSCONFDIR)/milter-reword/$${f#conf/}; \
	    [ -e "$$d" ] || install -m 0644 "$$f" "$$d"; done
	for m in man/*.[158]; do [ -f "$$m" ] || continue; s=$${m##*.}; \
	    install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d
	sed 's|/usr/sbin/milter-reword|$(PREFIX)/sbin/milter-reword|g' contrib/systemd/milter-reword.service \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/milter-reword.service
	install -m 0644 contrib/systemd/milter-reword.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/milter-reword.conf

clean:
	rm -rf $(B)

# Further targets, one fragment per concern (fuzzing, sendmail tests, ...).
-include $(wildcard mk/*.mk)

# the header dependencies the compiler wrote (-MMD -MP)
-include $(wildcard $(CORE_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(UNIT_BIN:=.d) \
                   $(B)/bench/*.d)

# The README's first command: install, build, and show the product working.
demo: deps all
	@B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) bash tools/demo.sh
