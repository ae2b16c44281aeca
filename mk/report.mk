# mk/report.mk - `reword report`: its benchmark beside pflogsumm, part of
# `make bench` (bench/all.sh; alone: make report-bench SIZE_MB=256), and
# regenerating tests/data/report/ from a real Postfix run (needs root).
.PHONY: report-bench report-fixtures
report-bench: $(B)/reword $(B)/bench/gen_maillog
	@B=$(CURDIR)/$(B) SIZE_MB=$(or $(SIZE_MB),1024) bash bench/bench_report.sh

report-fixtures: $(PROGRAMS) $(FIXTURE_BIN)
	@REPORT_FIXTURES_OUT=$(CURDIR)/tests/data/report B=$(CURDIR)/$(B) SRCDIR=$(CURDIR) \
	    tests/integration/run.sh t_report.sh
