#include "core/arena.h"

namespace ember {

Arena::Arena(void* buffer, size_t bytes) {
  if (!buffer) return;
  const uintptr_t start = reinterpret_cast<uintptr_t>(buffer);
  const uintptr_t aligned = (start + kAlign - 1) & ~static_cast<uintptr_t>(kAlign - 1);
  const size_t skip = aligned - start;
  if (bytes <= skip) return;
  base_ = reinterpret_cast<uint8_t*>(aligned);
  capacity_ = (bytes - skip) & ~(kAlign - 1);
  tail_ = capacity_;
}

Status Arena::overflow(size_t count, size_t size) const {
  return Status::error(Code::out_of_memory,
                       "arena: request of %zu x %zu bytes overflows size_t (%zu bytes free)",
                       count, size, free_bytes());
}

// Rounds a request up to the alignment and checks it fits; `what` names it in the error.
Status Arena::fit(size_t bytes, const char* what, size_t* need) const {
  *need = rounded(bytes);
  if (*need == 0 && bytes != 0) return overflow(bytes, 1);
  if (*need > free_bytes())
    return Status::error(Code::out_of_memory,
                         "arena: asked for %zu %sbytes, %zu free (capacity %zu, short by %zu)", bytes,
                         what, free_bytes(), capacity_, *need - free_bytes());
  return Status::ok();
}

Status Arena::alloc(size_t bytes, void** out) {
  *out = nullptr;
  size_t need = 0;
  EMBER_TRY(fit(bytes, "", &need));
  *out = base_ + head_;
  head_ += need;
  note_use();
  return Status::ok();
}

Status Arena::alloc_tail(size_t bytes, void** out) {
  *out = nullptr;
  size_t need = 0;
  EMBER_TRY(fit(bytes, "scratch ", &need));
  tail_ -= need;
  *out = base_ + tail_;
  note_use();
  return Status::ok();
}

void Arena::rewind(size_t mark) {
  if (mark <= head_) head_ = mark;  // a mark from the future is ignored, never grows the head
}

}  // namespace ember
