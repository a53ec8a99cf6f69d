#include "nn/planner.h"

#include "core/arena.h"

namespace ember::nn {

namespace {

bool alive_together(const PlannedBuffer& a, const PlannedBuffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

// Larger first; ties by earlier start, then index, so the plan is deterministic.
bool before(const PlannedBuffer* bufs, int32_t a, int32_t b) {
  if (bufs[a].bytes != bufs[b].bytes) return bufs[a].bytes > bufs[b].bytes;
  if (bufs[a].first != bufs[b].first) return bufs[a].first < bufs[b].first;
  return a < b;
}

}  // namespace

size_t plan_buffers(PlannedBuffer* bufs, int32_t n, int32_t* order) {
  for (int32_t i = 0; i < n; ++i) {
    bufs[i].bytes = Arena::rounded(bufs[i].bytes);
    order[i] = i;
  }
  // Insertion sort: n is the number of tensors in a graph (tens to hundreds).
  for (int32_t i = 1; i < n; ++i) {
    const int32_t key = order[i];
    int32_t j = i - 1;
    while (j >= 0 && before(bufs, key, order[j])) {
      order[j + 1] = order[j];
      --j;
    }
    order[j + 1] = key;
  }
  size_t region = 0;
  for (int32_t oi = 0; oi < n; ++oi) {
    PlannedBuffer& b = bufs[order[oi]];
    if (b.bytes == 0) {
      b.offset = 0;
      continue;
    }
    // Try offset 0, then the end of every placed, co-alive buffer; keep the lowest that
    // clashes with none. Candidates are few, so the O(n^2) scan per buffer is fine.
    size_t best = SIZE_MAX;
    for (int32_t cj = -1; cj < oi; ++cj) {
      size_t candidate = 0;
      if (cj >= 0) {
        const PlannedBuffer& c = bufs[order[cj]];
        if (c.bytes == 0 || !alive_together(b, c)) continue;
        candidate = c.offset + c.bytes;
      }
      if (candidate >= best) continue;
      bool clash = false;
      for (int32_t pj = 0; pj < oi && !clash; ++pj) {
        const PlannedBuffer& p = bufs[order[pj]];
        if (p.bytes == 0 || !alive_together(b, p)) continue;
        clash = candidate < p.offset + p.bytes && p.offset < candidate + b.bytes;
      }
      if (!clash) best = candidate;
    }
    b.offset = best;
    if (best + b.bytes > region) region = best + b.bytes;
  }
  return region;
}

Status check_plan(const PlannedBuffer* bufs, int32_t n, size_t region) {
  for (int32_t i = 0; i < n; ++i) {
    if (bufs[i].bytes == 0) continue;
    if (bufs[i].offset % Arena::kAlign)
      return Status::error(Code::corrupt_data, "plan: buffer %d at offset %zu is not 64-byte aligned", static_cast<int>(i),
                           bufs[i].offset);
    if (bufs[i].offset + bufs[i].bytes > region)
      return Status::error(Code::corrupt_data, "plan: buffer %d ends at %zu, past the region (%zu)", static_cast<int>(i),
                           bufs[i].offset + bufs[i].bytes, region);
    for (int32_t j = i + 1; j < n; ++j) {
      if (bufs[j].bytes == 0 || !alive_together(bufs[i], bufs[j])) continue;
      if (bufs[i].offset < bufs[j].offset + bufs[j].bytes && bufs[j].offset < bufs[i].offset + bufs[i].bytes)
        return Status::error(Code::corrupt_data,
                             "plan: buffers %d [%zu, +%zu) and %d [%zu, +%zu) overlap while both alive",
                             static_cast<int>(i), bufs[i].offset, bufs[i].bytes, static_cast<int>(j), bufs[j].offset, bufs[j].bytes);
    }
  }
  return Status::ok();
}

void print_plan(FILE* out, const PlannedBuffer* bufs, int32_t n, size_t region, const char* title) {
  std::fprintf(out, "%s: %d buffers in %zu bytes\n", title, static_cast<int>(n), region);
  std::fprintf(out, "  %4s %10s %10s %5s %5s\n", "buf", "offset", "bytes", "first", "last");
  for (int32_t i = 0; i < n; ++i)
    std::fprintf(out, "  %4d %10zu %10zu %5d %5d\n", static_cast<int>(i), bufs[i].offset, bufs[i].bytes,
                 static_cast<int>(bufs[i].first), static_cast<int>(bufs[i].last));
}

}  // namespace ember::nn
