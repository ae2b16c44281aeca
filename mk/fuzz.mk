# mk/fuzz.mk - fuzzing (libFuzzer), sanitizer and valgrind runs.
#
#   make fuzz-smoke      build the fuzz targets with clang into build-fuzz/ and
#                        run each for FUZZ_SECONDS (default 60); fails on any
#                        crash, sanitizer report, leak, timeout or invariant
#                        violation; prints total execs and execs/s per target
#   make fuzz            the same, FUZZ_SECONDS default 600
#   make fuzz-build      only build the targets
#   make fuzz-seeds      regenerate tests/fuzz/corpus/ from the test fixtures
#   make ci-extra        what CI runs in addition to `make check` and
#                        `make check-sanitize`: fuzz-smoke, then valgrind
#                        (in build-vg/, about a minute)
#   make check-sanitize  unit, CLI, miltertest and integration tests built with
#                        ASan+UBSan in build-san/
#   make valgrind        every unit test binary under valgrind (memcheck);
#                        builds into $(B) like `make unit` (e.g. B=build-vg)
#
# Knobs: FUZZ_TARGETS (default: every tests/fuzz/fuzz_*.c, e.g.
# FUZZ_TARGETS=config), FUZZ_CC (clang-14), FUZZ_B (build-fuzz),
# FUZZ_TIMEOUT (seconds per input, 10), FUZZ_ARGS (extra libFuzzer options).
#
# The fuzz targets and their invariants are described in tests/fuzz/README.md.
# The core library is compiled again with clang and the fuzzer/sanitizer
# instrumentation into $(FUZZ_B) by a sub-make of this Makefile (B=$(FUZZ_B));
# gcc objects of build/ are never reused.
#
# Targets: reply (reply_parse/validate/format/sanitize/milter_lines and the
# engine on the parsed reply), template (template_compile/expand with
# hostile values), config (conf_load_string and engine_eval on what it
# loads), proxy (the milter packet codec of milter/core/proto/milter_codec.c:
# mp_decode on an arbitrary byte stream, in one piece and split in two,
# and every decoded packet through the optneg, connect, indexed-header and
# string parsers; invariants: never reads past avail, a truncated packet
# asks for more bytes (MP_MORE, used > avail) instead of failing, only a
# length of 0 or over max is MP_BAD, re-encoding gives the same bytes,
# parsed strings and macro lists lie inside the packet, a '4'/'6' connect
# address passes inet_pton).

FUZZ_B        ?= build-fuzz
FUZZ_CC       ?= $(shell command -v clang-14 2>/dev/null || echo clang)
FUZZ_SAN       = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS    = -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS  ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# used inside the sub-make, where B = $(FUZZ_B)
FUZZ_BIN       = $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-bins fuzz-seeds ci-extra check-sanitize valgrind

ci-extra: fuzz-smoke
	+$(MAKE) --no-print-directory B=build-vg valgrind

fuzz-smoke: FUZZ_TIME = $(or $(FUZZ_SECONDS),60)
fuzz: FUZZ_TIME = $(or $(FUZZ_SECONDS),600)
fuzz-smoke fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_B) $(FUZZ_TARGETS)

# Rebuilds from scratch when the compiler or flags changed (the objects in
# $(FUZZ_B) carry no record of the flags they were built with).
fuzz-build:
	@mkdir -p $(FUZZ_B); stamp='$(FUZZ_CC) $(FUZZ_CFLAGS)'; \
	if [ "$$(cat $(FUZZ_B)/.flags 2>/dev/null)" != "$$stamp" ]; then \
	    rm -rf $(FUZZ_B)/core $(FUZZ_B)/fuzz $(FUZZ_B)/libreword-core.a; \
	    echo "$$stamp" > $(FUZZ_B)/.flags; fi
	+@$(MAKE) --no-print-directory B=$(FUZZ_B) CC='$(FUZZ_CC)' CFLAGS='$(FUZZ_CFLAGS)' \
	    SANITIZE= FUZZ_TARGETS='$(FUZZ_TARGETS)' fuzz-bins

fuzz-bins: $(FUZZ_BIN)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(B)/libreword-core.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CORE_CPPFLAGS) -DFUZZ_SRCDIR='"$(CURDIR)"' -fsanitize=fuzzer -o $@ $< \
	    $(B)/libreword-core.a $(PKG_LIBS) $(LDLIBS)

fuzz-seeds:
	python3 tests/fuzz/seeds.py

# ASan+UBSan build of everything in its own directory: unit, CLI,
# miltertest and real-Postfix integration tests (the daemon itself runs
# sanitized; any report aborts it and fails the tests).
check-sanitize:
	+$(MAKE) B=build-san SANITIZE=1 unit cli miltertest integration

# memcheck over every unit test; a definite leak or any memory error fails.
VALGRIND       ?= valgrind
VALGRIND_FLAGS ?= --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
                  --show-leak-kinds=definite --num-callers=30 --quiet
valgrind: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	    $(VALGRIND) $(VALGRIND_FLAGS) $$t || { echo "!! valgrind: $$t failed"; fail=1; }; \
	done; exit $$fail
