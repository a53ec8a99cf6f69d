// A unique scratch directory per test (pid + counter), removed with everything in it.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>

namespace ember::testing {

struct TempDir {
  std::string path;
  explicit TempDir(const char* tag = "test") {
    static int counter = 0;
    path = std::string("/tmp/ember-") + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;  // a test may have taken our permissions away
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return path + "/" + name; }
  int entries() const {
    namespace fs = std::filesystem;
    return static_cast<int>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

}  // namespace ember::testing
