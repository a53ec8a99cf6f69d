// The library's version, printed by `ember --version` and returned by the C API.
#pragma once

namespace ember {

constexpr const char* kVersion = "0.9.0";

}  // namespace ember
