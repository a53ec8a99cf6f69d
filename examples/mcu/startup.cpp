// Start-up for a Cortex-M board with no OS (the firmware in this folder): the vector table,
// then at reset: the FPU switched on, .data copied from flash, .bss zeroed, the stack painted
// (to measure its peak afterwards), static constructors run, main(), and the run ended
// through semihosting with main's status. The symbols come from the linker script.
#include <cstddef>
#include <cstdint>

#include "examples/mcu/semihosting.h"

extern "C" {
extern uint32_t __data_load__[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
extern uint32_t __stack_limit__[], __stack_top__[];
extern void (*__init_array_start[])(), (*__init_array_end[])();
int main();
void Reset_Handler();
void Fault_Handler();
}

namespace {
constexpr uint32_t kPaint = 0xC0FFEE11u;                    // what an untouched stack word holds
volatile uint32_t* const kCpacr = reinterpret_cast<volatile uint32_t*>(0xE000ED88);  // SCB->CPACR

// Bytes of the stack ever written: from its top down to the lowest word not still painted.
size_t stack_peak() {
  const uint32_t* w = __stack_limit__;
  while (w < __stack_top__ && *w == kPaint) ++w;
  return size_t(reinterpret_cast<const uint8_t*>(__stack_top__) - reinterpret_cast<const uint8_t*>(w));
}
}  // namespace

extern "C" void Reset_Handler() {
  *kCpacr |= 0xFu << 20;  // CP10 and CP11 (the FPU): full access, before any float instruction
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  for (uint32_t *src = __data_load__, *dst = __data_start__; dst < __data_end__;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
  // Paint the stack below this frame (a small margin above is this function's own).
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* w = __stack_limit__; w < sp - 16; ++w) *w = kPaint;
  for (void (**f)() = __init_array_start; f < __init_array_end; ++f) (*f)();
  const int status = main();
  ember::mcu::Line().text("stack peak: ").number(stack_peak()).text(" bytes\n").flush();
  ember::mcu::exit_run(status);
}

// No heap: newlib's formatting code (snprintf into a fixed buffer) keeps a reference to
// malloc that it never takes, so malloc is linked; this is where it would get memory, and
// the firmware stops instead, loudly.
extern "C" void* _sbrk(ptrdiff_t) {
  ember::mcu::write_text("firmware: something asked for heap memory (malloc); there is none\n");
  ember::mcu::exit_run(4);
}

extern "C" void Fault_Handler() {
  ember::mcu::write_text("fault: the firmware stopped (a hard fault or an unexpected interrupt)\n");
  ember::mcu::exit_run(3);
}

// The Cortex-M vector table: the initial stack pointer, then the handlers (reset, NMI, hard
// fault, memory management, bus fault, usage fault, ...); this firmware uses no interrupt.
extern "C" __attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])() = {
    reinterpret_cast<void (*)()>(__stack_top__), Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, nullptr, nullptr, nullptr, nullptr,
    Fault_Handler, Fault_Handler, nullptr, Fault_Handler, Fault_Handler};
