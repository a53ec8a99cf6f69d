#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>

#include "core/arena.h"

using namespace ember;

TEST_CASE("arena: allocations are 64-byte aligned even over an unaligned buffer") {
  alignas(64) static uint8_t storage[4096 + 64];
  for (size_t offset : {0, 1, 7, 33, 63}) {
    Arena arena(storage + offset, 4096);
    CHECK(reinterpret_cast<uintptr_t>(arena.base()) % 64 == 0);
    CHECK(arena.capacity() <= 4096);
    CHECK(arena.capacity() >= 4096 - 64 * 2);
    for (size_t bytes : {1, 3, 64, 65, 100}) {
      void* p = nullptr;
      REQUIRE(arena.alloc(bytes, &p).is_ok());
      CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
      std::memset(p, 0xab, bytes);  // writable (ASan checks the bounds)
    }
  }
}

TEST_CASE("arena: used, high-water, marks and rewind") {
  alignas(64) static uint8_t storage[1024];
  Arena arena(storage, sizeof storage);
  CHECK(arena.capacity() == 1024);
  void* a = nullptr;
  REQUIRE(arena.alloc(10, &a).is_ok());
  CHECK(arena.used() == 64);
  const size_t mark = arena.mark();
  void* b = nullptr;
  REQUIRE(arena.alloc(200, &b).is_ok());
  CHECK(arena.used() == 64 + 256);
  CHECK(static_cast<uint8_t*>(b) == static_cast<uint8_t*>(a) + 64);
  arena.rewind(mark);
  CHECK(arena.used() == 64);
  CHECK(arena.high_water() == 64 + 256);
  void* c = nullptr;
  REQUIRE(arena.alloc(1, &c).is_ok());
  CHECK(c == b);  // the rewound space is reused
  arena.rewind(1u << 20);  // a mark beyond the head never grows it
  CHECK(arena.used() == 128);
}

TEST_CASE("arena: head and tail share the buffer and meet without overlap") {
  alignas(64) static uint8_t storage[512];
  Arena arena(storage, sizeof storage);
  void *h = nullptr, *t = nullptr;
  REQUIRE(arena.alloc(128, &h).is_ok());
  REQUIRE(arena.alloc_tail(256, &t).is_ok());
  CHECK(static_cast<uint8_t*>(t) == arena.base() + 256);
  CHECK(arena.free_bytes() == 128);
  void* x = nullptr;
  CHECK(arena.alloc(128, &x).is_ok());
  CHECK(arena.free_bytes() == 0);
  CHECK(!arena.alloc_tail(1, &x).is_ok());
  arena.reset_tail();
  CHECK(arena.free_bytes() == 256);
  CHECK(arena.high_water() == 512);
}

TEST_CASE("arena: exhaustion is an error naming the bytes asked and free, and changes nothing") {
  alignas(64) static uint8_t storage[1024];
  Arena arena(storage, sizeof storage);
  void* p = nullptr;
  REQUIRE(arena.alloc(1000, &p).is_ok());  // takes 1024
  Arena small(storage, 300);               // 256 usable
  REQUIRE(small.alloc(100, &p).is_ok());   // 128 used, 128 free
  const size_t used = small.used();
  void* q = reinterpret_cast<void*>(1);
  Status s = small.alloc(500, &q);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(q == nullptr);
  const std::string msg = s.message();
  CHECK(msg.find("asked for 500 bytes") != std::string::npos);
  CHECK(msg.find("128 free") != std::string::npos);
  CHECK(msg.find("short by 384") != std::string::npos);
  CHECK(small.used() == used);

  // A count times size that overflows size_t is refused, not wrapped.
  double* d = nullptr;
  s = small.alloc_array(SIZE_MAX / 4, &d);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(d == nullptr);
  s = small.alloc(SIZE_MAX - 3, &p);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(small.used() == used);
}

TEST_CASE("arena: a null or tiny buffer is an empty arena, not a crash") {
  Arena none(nullptr, 4096);
  void* p = nullptr;
  CHECK(none.capacity() == 0);
  CHECK(none.alloc(1, &p).code() == Code::out_of_memory);
  alignas(64) static uint8_t storage[128];
  Arena tiny(storage + 1, 10);
  CHECK(tiny.capacity() == 0);
  CHECK(tiny.alloc(1, &p).code() == Code::out_of_memory);
  CHECK(tiny.alloc(0, &p).is_ok());  // zero bytes always fit
}
