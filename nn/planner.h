// MemoryPlanner: places buffers with known lifetimes in one region, reusing memory between
// buffers that are never alive at the same time (like a register allocator).
//
// Each buffer has a size and a lifetime [first, last] in schedule steps (a training step's
// forward ops, then its backward ops). Algorithm (greedy by size, as TFLite Micro's
// GreedyMemoryPlanner): take buffers from largest to smallest; put each at the lowest
// offset where it overlaps, in address range, no already placed buffer whose lifetime
// overlaps its own. Large buffers placed first leave gaps that small ones fill. The result
// is not optimal (the problem is NP-hard) but is close on the chain-like graphs of neural
// networks, runs in O(n^2) and is deterministic.
//
// The planner owns no memory: the caller passes arrays for n buffers. print() shows the
// plan; check() verifies no two live buffers overlap (tests use it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/status.h"

namespace ember::nn {

struct PlannedBuffer {
  size_t bytes = 0;    // rounded up to 64 by the planner
  int32_t first = 0;   // first step it is alive
  int32_t last = 0;    // last step it is alive (inclusive)
  size_t offset = 0;   // output: where it goes in the region
};

// Places buffers[0..n) and returns the region's size in bytes (the high-water mark).
// order: scratch of n int32 the planner uses to sort (no allocation).
size_t plan_buffers(PlannedBuffer* buffers, int32_t n, int32_t* order);

// ok when no two buffers alive at a common step share a byte, and all fit in `region`.
Status check_plan(const PlannedBuffer* buffers, int32_t n, size_t region);

// One line per buffer: index, bytes, lifetime, offset; then the total.
void print_plan(FILE* out, const PlannedBuffer* buffers, int32_t n, size_t region, const char* title);

}  // namespace ember::nn
