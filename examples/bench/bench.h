// ember-bench: the reference workloads of ../shared/bench/WORKLOADS.md, one subcommand each.
#pragma once
#include <cstdio>

namespace ember::bench {

// Each subcommand parses its own flags (argv[0] is the subcommand) and returns an exit code.
int gemm_main(int argc, char** argv);

}  // namespace ember::bench
