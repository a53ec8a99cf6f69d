// Counts every global allocation in the test binary: operator new/delete (all forms) and
// malloc/calloc/realloc/free (forwarded to glibc's __libc_* versions). Counting is on only
// between start() and stop(). Not available under AddressSanitizer (it owns malloc) or
// without glibc: available() says so and the tests that need it skip.
#pragma once
#include <cstddef>

namespace ember::testing::alloc_counter {

bool available();
void start();
// Allocations (new + malloc family, frees not counted) since start().
size_t stop();

}  // namespace ember::testing::alloc_counter
