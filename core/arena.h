// Arena: the one block of memory ember works in.
//
// The caller hands over a buffer once (a static array on a microcontroller, one allocation
// at start-up on a PC); every tensor, optimizer state and scratch buffer is carved out of
// it. Allocation is a pointer bump, so it is O(1), never fragments and never touches the
// heap. Everything is 64-byte aligned (a cache line; the widest SIMD load).
//
// The buffer may start at any address (malloc and std::vector give 16 bytes, a byte array
// 1): the arena starts at the first 64-byte boundary in it, so up to kStartSlack = 63 bytes
// of the buffer go unused, and its capacity is what is left, rounded down to 64. Every
// bytes_needed in ember (a model's, a trainee's, the trainer's) is a figure for the whole
// buffer and counts that slack once: a buffer of exactly bytes_needed bytes works wherever
// it starts. Figures of the pieces (Context::bytes_needed, Graph::plan, Params::bytes) are
// what the arena hands out; add kStartSlack to their sum, or start the buffer on a 64-byte
// boundary (alignas(64)), where nothing is lost.
//
//   buffer:  [ head: bump-allocated, grows right ->        free        <- tail ]
//
// The head holds long-lived data in allocation order and can be rewound to a mark
// (mark() / rewind()), which frees everything allocated after the mark. The tail is for
// scratch whose size is known only late (e.g. planned activations): it grows down from the
// end and is released as a whole with reset_tail(). A request that does not fit returns
// Code::out_of_memory naming bytes asked and bytes free; the arena is left unchanged.
// Tables whose length is known only as they are filled (graph nodes, parameters) grow in
// chunks from the head (core/arena-list.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

class Arena {
 public:
  static constexpr size_t kAlign = 64;
  // Bytes of a buffer the arena may skip to align its start (see the top of this file).
  static constexpr size_t kStartSlack = kAlign - 1;

  Arena() = default;
  Arena(void* buffer, size_t bytes);

  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Takes `bytes` (rounded up to kAlign) from the head. On failure *out is set to nullptr.
  Status alloc(size_t bytes, void** out);
  template <class T>
  Status alloc_array(size_t count, T** out) {
    void* p = nullptr;
    if (count > SIZE_MAX / sizeof(T))
      return (*out = nullptr, overflow(count, sizeof(T)));
    Status s = alloc(count * sizeof(T), &p);
    *out = static_cast<T*>(p);
    return s;
  }
  // Same, from the tail end (scratch).
  Status alloc_tail(size_t bytes, void** out);

  size_t mark() const { return head_; }
  void rewind(size_t mark);  // frees head allocations made after mark()
  void reset_tail() { tail_ = capacity_; }
  // The same for the tail: frees tail allocations made after tail_mark().
  size_t tail_mark() const { return tail_; }
  void rewind_tail(size_t mark) {
    if (mark >= tail_ && mark <= capacity_) tail_ = mark;
  }
  void reset() { head_ = 0, tail_ = capacity_; }
  // Both ends at once, for a set-up that must leave no trace when it fails (all_or_nothing).
  struct Marks {
    size_t head = 0, tail = 0;
  };
  Marks marks() const { return Marks{head_, tail_}; }
  void rewind(const Marks& m) { rewind(m.head), rewind_tail(m.tail); }

  // Usable bytes: the buffer's after aligning the start (up to kStartSlack lost), rounded down to kAlign.
  size_t capacity() const { return capacity_; }
  size_t used() const { return head_ + (capacity_ - tail_); }
  size_t free_bytes() const { return tail_ - head_; }
  size_t high_water() const { return high_water_; }  // most bytes ever in use at once
  uint8_t* base() const { return base_; }

  // Bytes a request of `bytes` takes once rounded to the alignment (0 on overflow).
  static size_t rounded(size_t bytes) {
    return bytes > SIZE_MAX - (kAlign - 1) ? 0 : (bytes + kAlign - 1) & ~(kAlign - 1);
  }

 private:
  Status overflow(size_t count, size_t size) const;
  Status fit(size_t bytes, const char* what, size_t* need) const;
  void note_use() {
    if (used() > high_water_) high_water_ = used();
  }

  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t head_ = 0;  // bytes used at the head
  size_t tail_ = 0;  // offset where the tail region begins
  size_t high_water_ = 0;
};

// A set-up that completes or leaves no trace: runs take(); when it fails, undo() puts the
// object back as it was before and the arena is rewound (both ends) to where it was, so the
// caller may try again, e.g. with a bigger arena. Every init() that takes arena memory in
// several pieces goes through here: a half-done set-up would point into memory the next
// allocation reuses.
template <class Take, class Undo>
Status all_or_nothing(Arena* arena, Take take, Undo undo) {
  const Arena::Marks marks = arena->marks();
  const Status s = take();
  if (!s.is_ok()) {
    undo();
    arena->rewind(marks);
  }
  return s;
}

}  // namespace ember
