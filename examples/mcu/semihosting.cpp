#include "examples/mcu/semihosting.h"

namespace ember::mcu {

namespace {
// Semihosting operations (Arm "Semihosting for AArch32 and AArch64", version 2).
constexpr uint32_t kSysWrite0 = 0x04;                 // r1: a NUL-terminated string
constexpr uint32_t kSysExit = 0x18;                   // r1: a reason code
constexpr uint32_t kApplicationExit = 0x20026;        // ADP_Stopped_ApplicationExit: status 0
constexpr uint32_t kRunTimeErrorUnknown = 0x20023;    // ADP_Stopped_RunTimeErrorUnknown: status 1

// M-profile cores trap semihosting calls with BKPT 0xAB: r0 the operation, r1 its argument.
uint32_t call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
}  // namespace

void write_text(const char* text) { call(kSysWrite0, text); }

void exit_run(int status) {
  call(kSysExit, reinterpret_cast<const void*>(status == 0 ? kApplicationExit : kRunTimeErrorUnknown));
  for (;;) {
  }
}

Line& Line::ch(char c) {
  if (n_ + 1 >= sizeof buf_) flush();
  buf_[n_++] = c;
  return *this;
}

Line& Line::text(const char* s) {
  while (*s) ch(*s++);
  return *this;
}

Line& Line::number(uint64_t v) {
  char digits[24];
  int k = 0;
  do digits[k++] = char('0' + v % 10), v /= 10;
  while (v);
  while (k) ch(digits[--k]);
  return *this;
}

Line& Line::hex32(uint32_t v) {
  for (int shift = 28; shift >= 0; shift -= 4) ch("0123456789abcdef"[(v >> shift) & 0xf]);
  return *this;
}

void Line::flush() {
  buf_[n_] = '\0';
  if (n_) write_text(buf_);
  n_ = 0;
}

}  // namespace ember::mcu
