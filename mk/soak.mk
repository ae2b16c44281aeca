# mk/soak.mk - the long load and fault runs (tests/integration/s_soak.sh),
# outside `make check` and CI: 10-20 minutes with the defaults (as root).
#
#   make soak                            SOAK_MESSAGES=50000 SOAK_KILL_EVERY=8
#                                        SOAK_FULL_SECONDS=150
#   make soak B=build-san SANITIZE=1     the same against the ASan+UBSan daemon
.PHONY: soak
soak: $(PROGRAMS) $(FIXTURE_BIN)
	@B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) TEST_TIMEOUT=$(or $(SOAK_TIMEOUT),3600) \
	    tests/integration/run.sh s_soak.sh
