# mk/report.mk - `reword report` benchmark, part of `make bench`:
# throughput beside pflogsumm on a generated maillog (SIZE_MB, default 1024).
.PHONY: report-bench
bench: report-bench
report-bench: $(B)/reword
	@B=$(CURDIR)/$(B) bash bench/bench_report.sh
