// Output and exit on a bare-metal Arm board through semihosting: the debugger (or QEMU with
// -semihosting-config enable=on,target=native) carries the characters to the host's stdout
// and ends the run. No C library stdio, no heap: what a board without an OS can still do.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember::mcu {

void write_text(const char* text);           // a NUL-terminated string
[[noreturn]] void exit_run(int status);      // 0: success; anything else: failure

// Text built in a fixed buffer and written in one call (each semihosting call traps into the
// host, so one per line, not one per character).
class Line {
 public:
  Line& text(const char* s);
  Line& number(uint64_t v);
  Line& hex32(uint32_t v);
  Line& ch(char c);
  void flush();  // writes what is held and starts again (also when the buffer fills)

 private:
  char buf_[256];
  size_t n_ = 0;
};

}  // namespace ember::mcu
