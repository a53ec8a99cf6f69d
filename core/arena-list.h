// ArenaList: a table that grows in arena memory, for things counted only as they are made
// (graph nodes, parameters).
//
// Items are appended in chunks of kChunk taken from the arena as needed, so there is no
// capacity but the arena's, and the memory is at most one chunk more than the items need.
// Chunks are linked; seal() then takes a directory of chunk pointers (one per chunk) so
// that item i is found in O(1) from then on (before, reaching item i walks i / kChunk
// links, which only building does). Nothing is ever freed: the memory goes back with the
// arena (rewind to a mark taken before the first push). Items must be trivially copyable.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "core/arena.h"
#include "core/status.h"

namespace ember {

template <class T, int kChunk>
class ArenaList {
  static_assert(kChunk > 0 && (kChunk & (kChunk - 1)) == 0, "chunks hold a power of two items");
  static_assert(std::is_trivially_copyable<T>::value, "items are copied as bytes");

 public:
  // Bytes each chunk takes from the arena, and the directory seal() takes for n items.
  static size_t chunk_bytes() { return Arena::rounded(sizeof(Chunk)); }
  static size_t seal_bytes(int n) { return Arena::rounded(sizeof(Chunk*) * static_cast<size_t>(chunks_for(n))); }

  // Forgets every item (their memory stays with the arena).
  void clear() { *this = ArenaList(); }
  int size() const { return count_; }
  size_t bytes() const { return chunk_bytes() * static_cast<size_t>(chunks_for(count_)); }

  // Appends a copy of item, taking a new chunk from arena when the last one is full.
  Status push(Arena* arena, const T& item) {
    const int at = count_ & (kChunk - 1);
    if (at == 0) {
      void* p = nullptr;
      EMBER_TRY(arena->alloc(sizeof(Chunk), &p));
      Chunk* c = new (p) Chunk();
      (last_ ? last_->next : first_) = c;
      last_ = c;
    }
    last_->items[at] = item;
    ++count_;
    return Status::ok();
  }
  // The directory for O(1) access; pushing after it is the caller's error to prevent.
  Status seal(Arena* arena) {
    if (count_ == 0) return Status::ok();
    void* p = nullptr;
    EMBER_TRY(arena->alloc(sizeof(Chunk*) * static_cast<size_t>(chunks_for(count_)), &p));
    dir_ = static_cast<Chunk**>(p);
    int k = 0;
    for (Chunk* c = first_; c; c = c->next) dir_[k++] = c;
    return Status::ok();
  }

  // Back to walking (the directory's memory was given back to the arena).
  void unseal() { dir_ = nullptr; }

  T& operator[](int i) { return *at(i); }
  const T& operator[](int i) const { return *at(i); }
  T& back() { return *at(count_ - 1); }

 private:
  struct Chunk {
    Chunk* next = nullptr;
    T items[kChunk];
  };
  static int chunks_for(int n) { return (n + kChunk - 1) / kChunk; }
  T* at(int i) const {
    if (dir_) return &dir_[i / kChunk]->items[i & (kChunk - 1)];
    Chunk* c = first_;
    for (int k = i / kChunk; k > 0; --k) c = c->next;
    return &c->items[i & (kChunk - 1)];
  }

  Chunk* first_ = nullptr;
  Chunk* last_ = nullptr;
  Chunk** dir_ = nullptr;
  int count_ = 0;
};

}  // namespace ember
